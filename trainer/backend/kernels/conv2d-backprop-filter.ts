import * as tf from '@tensorflow/tfjs';
import { free, reshape, run, transpose, type ConvBackpropAttrs, type KernelBackend, type TensorInfo } from './compose';


/**
 * `Conv2DBackpropFilter` for wasm, which ships without it (so convolutions could not train).
 * dW[i, j, c, o] = sum over (b, y, x) of xPadded[b, y*s + i, x*s + j, c] * dy[b, y, x, o]: the kh*kw shifted
 * windows of the (channel-major) input are stacked into one [kh*kw*ci, N] matrix and multiplied by dy as
 * [N, co] in a single plain matMul. The channel-major transpose happens once on the input, because wasm's
 * matMul with transposeA is 6-12x slower than transposing explicitly (measured: 2,023 vs 254 ms, conv2).
 */
export function conv2DBackpropFilter(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs?: tf.NamedAttrMap;
}): TensorInfo {
  const backend = args.backend as KernelBackend;
  const { x, dy } = args.inputs as { x: TensorInfo; dy: TensorInfo };
  const attrs = (args.attrs ?? {}) as unknown as ConvBackpropAttrs & { filterShape: [number, number, number, number] };
  if (attrs.dataFormat === 'NCHW') {
    throw new Error('Conv2DBackpropFilter (wasm): expected dataFormat NHWC, the only layout the wasm backend runs; found NCHW');
  }
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    attrs.filterShape,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
  );
  const { batchSize, inChannels, outChannels, filterHeight: kh, filterWidth: kw, outHeight, outWidth } = info;
  const { strideHeight: sh, strideWidth: sw, padInfo } = info;

  const owned: TensorInfo[] = [];
  let source = x;
  if (padInfo.top || padInfo.bottom || padInfo.left || padInfo.right) {
    const paddings = [[0, 0], [padInfo.top, padInfo.bottom], [padInfo.left, padInfo.right], [0, 0]];
    source = run(backend, 'PadV2', { x }, { paddings, constantValue: 0 });
    owned.push(source);
  }
  // [ci, b, H, W]: each window below is then a contiguous-rows [ci, N] block, N = b*outHeight*outWidth.
  const channelMajor = transpose(backend, source, [3, 0, 1, 2]);
  owned.push(channelMajor);
  const n = batchSize * outHeight * outWidth;
  const windows: TensorInfo[] = [];
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      const window =
        sh === 1 && sw === 1
          ? run(backend, 'Slice', { x: channelMajor }, { begin: [0, 0, i, j], size: [inChannels, batchSize, outHeight, outWidth] })
          : run(
              backend,
              'StridedSlice',
              { x: channelMajor },
              {
                begin: [0, 0, i, j],
                end: [inChannels, batchSize, i + (outHeight - 1) * sh + 1, j + (outWidth - 1) * sw + 1],
                strides: [1, 1, sh, sw],
                beginMask: 0,
                endMask: 0,
                ellipsisMask: 0,
                newAxisMask: 0,
                shrinkAxisMask: 0,
              },
            );
      windows.push(reshape(backend, window, [inChannels, n]));
      free(backend, window);
    }
  }
  const patches = windows.length === 1 ? windows[0] : run(backend, 'Concat', windows, { axis: 0 });
  if (windows.length > 1) free(backend, ...windows);
  free(backend, ...owned);

  const patches3d = reshape(backend, patches, [1, kh * kw * inChannels, n]);
  const dy3d = reshape(backend, dy, [1, n, outChannels]);
  const product = run(backend, 'BatchMatMul', { a: patches3d, b: dy3d }, { transposeA: false, transposeB: false });
  free(backend, patches, patches3d, dy3d);
  const dw = reshape(backend, product, [kh, kw, inChannels, outChannels]);
  free(backend, product);
  return dw;
}
