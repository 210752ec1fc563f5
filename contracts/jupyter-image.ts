/**
 * JupyterLab image, pinned by tag (see the README to pin its digest). Read by the training stack and by
 * `facepoints preflight`, so this module must not import aws-cdk-lib.
 */
export const JUPYTER_IMAGE = 'quay.io/jupyter/minimal-notebook:2026-04-02';
