/** Named conversion settings for known models. */
import type { InputSpec } from './passes/types.js';

export interface Preset {
  /** What the preset is for, shown by the CLI. */
  description: string;
  inputs: InputSpec[];
  outputs: string[];
  set: Record<string, number | boolean>;
}

/**
 * Presets by name. `facenet` fits davidsandberg/facenet's frozen Inception-ResNet-v1 models
 * (20180402-114759, 20180408-102900, 20170512-110547): the queue-fed `input` Identity becomes a
 * batch-dynamic `[-1,160,160,3]` Placeholder, `phase_train` is frozen to false, and `embeddings`
 * (the L2-normalized 512-d or 128-d output) is the output.
 */
export const PRESETS: Readonly<Record<string, Preset>> = Object.freeze({
  facenet: {
    description: 'facenet Inception-ResNet-v1 (input [-1,160,160,3] → embeddings, phase_train=false)',
    inputs: [{ name: 'input', shape: [-1, 160, 160, 3] }],
    outputs: ['embeddings'],
    set: { phase_train: false },
  },
});
