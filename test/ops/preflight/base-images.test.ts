import * as path from 'node:path';
import { dockerfileBaseImages, readDockerfileBaseImages } from '../../../ops/preflight/base-images';

test('the syntax frontend, ARG ...IMAGE defaults and direct FROM images; stages and build-argument references are not images', () => {
  const text = [
    '# syntax=docker/dockerfile:1',
    'ARG NODE_IMAGE=node:22.22.2-bookworm-slim',
    'ARG SKIP_CUDNN=0',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Dockerfile text, where ${...} is a build argument
    'FROM --platform=linux/amd64 ${NODE_IMAGE} AS node',
    'FROM node AS build',
    'FROM debian:bookworm-slim AS tools',
    'FROM tools',
    'FROM scratch',
  ].join('\n');
  expect(dockerfileBaseImages(text)).toEqual([
    'docker/dockerfile:1',
    'node:22.22.2-bookworm-slim',
    'debian:bookworm-slim',
  ]);
});

test("the repository's Dockerfile pulls its frontend and the Node base image", async () => {
  expect(await readDockerfileBaseImages(path.join(__dirname, '../../../docker/Dockerfile'))).toEqual([
    'docker/dockerfile:1',
    'node:22.22.2-bookworm-slim',
  ]);
});
