/**
 * The converter: TensorFlow frozen GraphDef in, OpenCV-DNN-ready GraphDef out. Web-standard APIs only.
 * @module
 */
export { convert, inferInputs, inferOutputs } from './convert.js';
export type { ConvertOptions, ConvertReport, ConvertResult } from './convert.js';
export { PRESETS } from './presets.js';
export type { Preset } from './presets.js';
export { decodeGraph, encodeGraph, libraryFunctionNames } from './proto/codec.js';
export type { DecodeOptions } from './proto/codec.js';
export type * from './proto/types.js';
export { DataType, dataTypeName } from './proto/types.js';
export { FacenetDnnError } from './errors.js';
export type { ErrorCode } from './errors.js';
export { summarizeGraph } from './inspect.js';
export type { GraphSummary, InputInfo } from './inspect.js';
export { defaultPasses, runPasses } from './pipeline.js';
export type { PassProgress } from './pipeline.js';
export type { Pass, PassContext, InputSpec } from './passes/types.js';
export { graphToText } from './pbtxt/write.js';
export { textToGraph } from './pbtxt/read.js';
export { rejectedOps } from './passes/opencv-compat.js';
export { tensorToHost, hostToTensor } from './tensor.js';
export type { HostTensor } from './tensor.js';
