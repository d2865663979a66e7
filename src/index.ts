/**
 * funit-webgpu's public API: runs in browsers, Node and Deno (no Node built-ins here). Get a device
 * with `requestFunitDevice(navigator.gpu)` (Node: `getNodeDevice()` from the `node` entry), load a
 * model with `Funit.create(device, safetensorsBytes)`, then `encodeClass(images)` → a class code
 * (latent_dim floats) and `translate(contents, codeOrImages)` → images, or
 * `translateToTexture(contents, codeOrImages)` → an rgba8unorm array texture that stays on the GPU.
 * What an engine runs on a device (kernels, precision, tiles) is `chooseKernels(device, options)`,
 * exported so a caller can see the choice before loading a model. The shipped model and glyph
 * atlases are found with `shippedAssetUrl(path)`; `fetchAtlas` loads an atlas, and the glyph atlas
 * helpers (`glyphOf`, `cutCell`, `composeGrid`, …) cut and lay out its cells.
 */
export {
  Funit,
  type FunitOptions,
  type Intermediates,
  type ProfiledDispatch,
  type Style,
  type TextureTarget,
  type DeviceProvider,
  type CallOptions,
  type LoadOptions,
  type LoadProgress,
  type WeightsSource,
} from "./engine";
export {
  TranslationJob,
  MAX_IDLE_JOB_PLANS,
  type JobOptions,
  type JobResult,
  type EncodeOptions,
} from "./job";
export { type PrepareShape } from "./prepare";
export {
  requestFunitDevice,
  checkAdapterLimits,
  watchDevice,
  REQUIRED_LIMITS,
  type FunitDeviceOptions,
} from "./device";
export {
  chooseKernels,
  chooseConvKernel,
  choosePrecision,
  adapterInfo,
  isCpuAdapter,
  type AdapterInfo,
  type ConvKernel,
  type KernelChoice,
  type KernelOptions,
  type Precision,
} from "./policy";
export {
  InputError,
  DeviceError,
  DeviceLostError,
  EngineDisposedError,
  ModelFormatError,
  SafetensorsError,
  CheckpointError,
  ZipError,
  PickleError,
} from "./errors";
export { readGeneratorWeights, type GeneratorWeights } from "./weights";
export {
  type FunitHyper,
  inferHyper,
  expectedTensors,
  checkTensorShapes,
  adainParamCount,
  contentChannels,
} from "./hyper";
export {
  parseSafetensors,
  serializeSafetensors,
  tensorToFloat32,
  type RawTensor,
  type SafetensorsFile,
} from "./safetensors";
export { type Tensor, type ImageRGBA, imagesToTensor, tensorToImages } from "./tensor";
export {
  interpolateClassCodes,
  averageClassCodes,
  classCodeToJSON,
  classCodeFromJSON,
} from "./style";
export {
  type GlyphAtlas,
  type AtlasFiles,
  parseCharList,
  makeAtlas,
  cutCell,
  glyphOf,
  describeChar,
  missingChars,
  composeGrid,
  demoReferences,
  pickReferenceChars,
  GLYPH_CELL,
  SOURCE_ATLAS,
  ALL_HANGUL_ATLAS,
  UNSEEN_FONTS,
  unseenAtlasFiles,
  NEVER_TRAINED,
  PREFERRED_REFERENCES,
} from "./glyphs";
export {
  shippedAssetUrl,
  fetchAtlas,
  decodeWithCanvas,
  SHIPPED_MODEL,
  SHIPPED_GLYPHS,
  type FetchAtlasOptions,
  type ImageDecoder,
} from "./shipped";
export {
  CONV_TILES,
  chooseConvTile,
  type ConvTile,
  type ConvTileLimits,
  type ConvTileName,
} from "./ops/conv-tiles";
