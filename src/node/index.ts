/**
 * The Node entry of funit-webgpu (`funit-webgpu/node`): everything the platform-neutral API
 * exports, plus the Node side of the platform seam: a WebGPU device from Dawn, and reading and
 * writing image files, and reading the shipped glyph atlases and model from disk.
 */
export * from "../index";
export { getNodeDevice, getNodeGPU } from "./gpu";
export { readImageFile, decodeImage, encodePng, resizeBilinear, writeFileAtomic } from "./images";
export {
  readAtlas,
  loadSourceAtlas,
  loadUnseenAtlas,
  loadAllHangulAtlas,
  shippedAssetPath,
} from "./assets";
