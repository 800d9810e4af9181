/**
 * What OpenCV 4.12's TensorFlow importer (the one in OpenCV.js 4.12, `@techstark/opencv-js`
 * 4.12.0-release.1) does with each TensorFlow op: knowledge kept as data, used by the
 * `opencv-compat` pass and by {@link rejectedOps} in `passes/opencv-compat.ts`.
 *
 * Sources read (public OpenCV code on the 4.x branch, stored copies; the exact 4.12.0 commit could
 * not be pinned, the copies are from after the 4.5.3 dispatch-table refactor and carry the 4.9+
 * layers such as Attention and GroupNormalization):
 * - `modules/dnn/src/tensorflow/tf_importer.cpp`: `TFImporter::buildDispatchMap()` (the op → parser
 *   table), `addConstNodes()` (Const and Dequantize become weights, not layers), `populateNet()`
 *   (Switch/Merge removed by `removePhaseSwitches`, Identity by `RemoveIdentityOps`, then
 *   `simplifySubgraphs`), `parseCustomLayer()` (any other op becomes a layer whose *type is the op
 *   name*; it only works when the layer factory has a layer of that exact name, otherwise the net
 *   fails with "Can't create layer … of type …").
 * - `modules/dnn/src/tensorflow/tf_graph_simplifier.cpp`: the fused subgraphs (batch norm written
 *   out, flatten, Keras softmax/ReLU6/reshape, l2_normalize, LeakyRelu via parseMul).
 * - `modules/dnn/src/init.cpp`: `initializeLayerFactory()`, the layer names registered.
 * - `/work/shared/docs/opencv-js.md`: what was measured in OpenCV.js 4.12 itself (takes precedence).
 */

/** Ops in `TFImporter::buildDispatchMap()`: each has its own parser. */
export const DISPATCHED_OPS: readonly string[] = Object.freeze([
  'Conv2D', 'SpaceToBatchND', 'DepthwiseConv2dNative', 'Pad', 'MirrorPad', 'Conv3D',
  'BiasAdd', 'Add', 'AddV2', 'Sub', 'AddN',
  'MatMul', 'Reshape', 'Flatten', 'Squeeze', 'Transpose', 'Const', 'LRN', 'Concat', 'ConcatV2',
  'MaxPool', 'MaxPool3D', 'AvgPool', 'AvgPool3D', 'MaxPoolGrad', 'Placeholder',
  'Split', 'Slice', 'StridedSlice', 'Mul', 'RealDiv',
  // FusedBatchNormV2 is *not* in the table: it would fall through to parseCustomLayer and fail.
  'FusedBatchNorm', 'FusedBatchNormV3',
  'Conv2DBackpropInput', 'BlockLSTM', 'ResizeNearestNeighbor', 'ResizeBilinear', 'FusedResizeAndPadConv2D',
  'L2Normalize', 'PriorBox', 'Softmax', 'CropAndResize', 'Mean', 'Sum', 'Max', 'Pack', 'ClipByValue',
  'LeakyRelu', 'Abs', 'Tanh', 'Sigmoid', 'Relu', 'Elu', 'Exp', 'Identity', 'Relu6', 'ExpandDims',
]);

/**
 * Ops handled before layers are created: Dequantize (uint8 weights, folded into a float Const by
 * `addConstNodes` when its 3 inputs are Const and mode is MIN_FIRST), Switch and Merge (dropped by
 * `removePhaseSwitches`, see {@link KNOWN_WRONG}).
 */
export const PREPROCESSED_OPS: readonly string[] = Object.freeze(['Dequantize', 'Switch', 'Merge']);

/**
 * TF ops that reach `parseCustomLayer` and still work, because `initializeLayerFactory()` registers
 * an OpenCV layer under the very same name (unary element-wise layers). Floor, Sqrt and Square were
 * measured in OpenCV.js 4.12 (docs/opencv-js.md); the others are taken from init.cpp, not measured.
 * Square is not registered in the init.cpp copy read, but was measured to work.
 */
export const SAME_NAME_LAYER_OPS: readonly string[] = Object.freeze([
  'Floor', 'Sqrt', 'Square', 'Ceil', 'Log', 'Round', 'Sign', 'Reciprocal', 'Erf',
  'Sin', 'Cos', 'Tan', 'Sinh', 'Cosh', 'Asin', 'Acos', 'Atan', 'Asinh', 'Acosh', 'Atanh',
  'Softplus', 'Softsign', 'Selu',
]);

/** Every op the importer turns into a layer (or consumes) regardless of context. */
export const ACCEPTED_OPS: ReadonlySet<string> = new Set([...DISPATCHED_OPS, ...PREPROCESSED_OPS, ...SAME_NAME_LAYER_OPS]);

/**
 * Ops accepted only as part of a subgraph `simplifySubgraphs` fuses (tf_graph_simplifier.cpp), or
 * that parseMul folds into a LeakyRelu. Outside those exact patterns they are rejected at the first
 * `forward()` ("Can't create layer … of type …", docs/opencv-js.md).
 */
export const PATTERN_ONLY_OPS: Readonly<Record<string, string>> = Object.freeze({
  Maximum: 'l2_normalize (Maximum(Sum(Square(x)), y)), LeakyRelu (Maximum(Mul(alpha, x), x)), Keras ReLU6 (Relu → Minimum(6) → Maximum(0))',
  Minimum: 'Keras ReLU6 (Relu → Minimum(6) → Maximum(0))',
  Rsqrt: 'l2_normalize (Rsqrt(Maximum(…)) → Mul(x, ·)) and the written-out batch norm (Rsqrt(Add(variance, epsilon)) → Mul)',
  Shape: 'flatten / Keras reshape (Shape(x) → StridedSlice → Pack → Reshape(x, ·)) and Keras Conv2DBackpropInput output shapes',
  Prod: 'flatten (Shape(x) → StridedSlice → Prod → Pack → Reshape(x, ·))',
  BatchToSpaceND: 'dilated convolution (SpaceToBatchND → Conv2D/DepthwiseConv2dNative → BatchToSpaceND, merged by parseConvolution)',
});

/** Cases the importer accepts but computes differently from TensorFlow. */
export const KNOWN_WRONG: readonly { op: string; when: string; effect: string }[] = Object.freeze([
  { op: 'Sub', when: 'first input is a Const', effect: 'parseBias negates the constant and adds it: computes x − c instead of c − x' },
  { op: 'FusedBatchNorm', when: 'gamma or beta stored as a splat (value list, no tensor_content)', effect: 'has_weight/has_bias become false: the parameter is ignored (errors of 0.15–0.8 measured on hed_graph.pb)' },
  { op: 'FusedBatchNorm', when: 'is_training attribute absent', effect: 'read as false (TensorFlow\'s default is true)' },
  { op: 'Merge', when: 'any tf.cond left in the graph', effect: 'removePhaseSwitches keeps Merge input 0 without looking at the predicate' },
  { op: 'Const', when: 'a non-scalar tensor stored as a splat', effect: 'getTensorContent returns the short value list: a 1-element Mat instead of the full shape' },
  { op: 'Placeholder', when: 'dtype DT_BOOL', effect: 'not registered as a network input' },
]);

/** Cases the importer rejects even though the op itself is dispatched. */
export const CONDITIONAL_REJECTIONS: readonly { op: string; when: string; error: string }[] = Object.freeze([
  { op: 'RealDiv', when: 'first input is a Const', error: 'Division of constant over variable' },
  {
    op: 'Mul',
    when: 'multiplies by a constant vector and feeds an Add/AddV2 with no constant input (MTCNN PReLU)',
    error: 'Const input blob for weights not found (parseMul takes the Add as its bias; an AddN is not taken)',
  },
]);
