/**
 * Face matching: facenet's distances, 1:1 verification with thresholds that agree across metrics,
 * and a gallery for 1:N search. Web-standard APIs only.
 * @module
 */
export {
  angularDistance,
  convertThreshold,
  cosineDistance,
  DEFAULT_EUCLIDEAN_THRESHOLD,
  DEFAULT_THRESHOLDS,
  distance,
  METRICS,
  squaredEuclidean,
  verify,
  type Metric,
  type Verification,
  type VerifyOptions,
} from './distance.js';
export { createGallery, Gallery, GALLERY_FORMAT_VERSION, type AddOptions, type GalleryOptions, type Match } from './gallery.js';
