/**
 * vidpipe's MediaConvert job templates, typed against the SDK's JobTemplateSettings so a malformed template fails
 * the build. Settings follow AWS's samples (aws-samples/aws-media-services-simple-vod-workflow job.json; see
 * ../shared/reference/aws-facts.md §4.4). Destinations are filled from the output bucket:
 *
 *   s3://<output bucket>/<prefix>/mp4/<input basename>.mp4
 *   s3://<output bucket>/<prefix>/hls/<input basename>.m3u8        (+ <basename>_360.m3u8 … per rendition)
 *   s3://<output bucket>/<prefix>/thumbnails/<input basename>.0000000.jpg, .0000001.jpg … (numbered from 0)
 *
 * `setup` installs them with prefix "default"; a job started by vidpipe overrides the prefix per upload.
 * Frame capture is only accepted alongside a normal audio+video output, so the thumbnails template also writes an MP4.
 */
import type { AudioDescription, JobTemplateSettings, Output, OutputGroup } from '@aws-sdk/client-mediaconvert';

export const JOB_TEMPLATE_NAMES = ['mp4', 'hls', 'thumbnails'] as const;
export type JobTemplateName = (typeof JOB_TEMPLATE_NAMES)[number];

/** The sub-folder of each output group under the per-upload prefix. */
export const OUTPUT_FOLDERS = { mp4: 'mp4', hls: 'hls', thumbnails: 'thumbnails' } as const;

/** HLS ABR ladder: 360p, 540p, 720p, 1080p. */
export const HLS_LADDER = [
  { nameModifier: '_360', width: 640, height: 360, bitrate: 1_000_000 },
  { nameModifier: '_540', width: 960, height: 540, bitrate: 2_000_000 },
  { nameModifier: '_720', width: 1280, height: 720, bitrate: 3_000_000 },
  { nameModifier: '_1080', width: 1920, height: 1080, bitrate: 6_000_000 },
] as const;

/** The thumbnails template captures one frame every 5 s, at most 500. */
export const FRAME_CAPTURE_EVERY_S = 5;
export const MAX_FRAME_CAPTURES = 500;

/**
 * How many frames a frame-capture output writes for a video: one at 0 s, then one every `everyMs`, while the video
 * lasts (capped at MaxCaptures). AWS's sample (mediaconvert/latest/ug/file-group-with-frame-capture-output.html): a
 * 185 s video at one frame every 5 s reports its last image as file.0000036.jpg — 37 images, numbered from .0000000.
 */
export function frameCaptureCount(durationMs: number, everyMs = FRAME_CAPTURE_EVERY_S * 1000, max = MAX_FRAME_CAPTURES): number {
  return Math.max(1, Math.min(max, Math.ceil(durationMs / everyMs)));
}

/** The name of capture number `index` (from 0): `<base>.0000000.jpg`. */
export function frameCaptureName(basename: string, index: number): string {
  return `${basename}.${String(index).padStart(7, '0')}.jpg`;
}

export interface JobTemplateDefinition {
  name: JobTemplateName;
  description: string;
  settings: JobTemplateSettings;
}

/** Where an output group writes, for one prefix. The trailing slash makes MediaConvert use the input's base name. */
export function outputDestination(outputBucket: string, prefix: string, folder: string): string {
  const clean = prefix.replace(/^\/+|\/+$/g, '');
  return `s3://${outputBucket}/${clean ? `${clean}/` : ''}${folder}/`;
}

const aacAudio: AudioDescription = {
  AudioTypeControl: 'FOLLOW_INPUT',
  LanguageCodeControl: 'FOLLOW_INPUT',
  CodecSettings: {
    Codec: 'AAC',
    AacSettings: {
      AudioDescriptionBroadcasterMix: 'NORMAL',
      Bitrate: 96000,
      RateControlMode: 'CBR',
      CodecProfile: 'LC',
      CodingMode: 'CODING_MODE_2_0',
      RawFormat: 'NONE',
      SampleRate: 48000,
      Specification: 'MPEG4',
    },
  },
};

type VideoDescription = NonNullable<Output['VideoDescription']>;

/** The picture settings every output shares (AWS sample job.json); only size and codec differ. */
function videoDescription(width: number, height: number, codecSettings: VideoDescription['CodecSettings']): VideoDescription {
  return {
    Width: width,
    Height: height,
    ScalingBehavior: 'DEFAULT',
    TimecodeInsertion: 'DISABLED',
    AntiAlias: 'ENABLED',
    Sharpness: 50,
    AfdSignaling: 'NONE',
    DropFrameTimecode: 'ENABLED',
    RespondToAfd: 'NONE',
    ColorMetadata: 'INSERT',
    CodecSettings: codecSettings,
  };
}

function h264Video(width: number, height: number, bitrate: number): VideoDescription {
  return videoDescription(width, height, {
    Codec: 'H_264',
    H264Settings: {
      InterlaceMode: 'PROGRESSIVE',
      NumberReferenceFrames: 3,
      Syntax: 'DEFAULT',
      Softness: 0,
      GopClosedCadence: 1,
      GopSize: 90,
      Slices: 1,
      GopBReference: 'DISABLED',
      SlowPal: 'DISABLED',
      SpatialAdaptiveQuantization: 'ENABLED',
      TemporalAdaptiveQuantization: 'ENABLED',
      FlickerAdaptiveQuantization: 'DISABLED',
      EntropyEncoding: 'CABAC',
      Bitrate: bitrate,
      FramerateControl: 'INITIALIZE_FROM_SOURCE',
      RateControlMode: 'CBR',
      CodecProfile: 'MAIN',
      Telecine: 'NONE',
      MinIInterval: 0,
      AdaptiveQuantization: 'HIGH',
      CodecLevel: 'AUTO',
      FieldEncoding: 'PAFF',
      SceneChangeDetect: 'ENABLED',
      QualityTuningLevel: 'SINGLE_PASS',
      FramerateConversionAlgorithm: 'DUPLICATE_DROP',
      UnregisteredSeiTimecode: 'DISABLED',
      GopSizeUnits: 'FRAMES',
      ParControl: 'INITIALIZE_FROM_SOURCE',
      NumberBFramesBetweenReferenceFrames: 2,
      RepeatPps: 'DISABLED',
    },
  });
}

/** The job's input block; FileInput is set per job. */
export const inputTemplate = {
  AudioSelectors: { 'Audio Selector 1': { Offset: 0, DefaultSelection: 'DEFAULT', ProgramSelection: 1 } },
  VideoSelector: { ColorSpace: 'FOLLOW' },
  FilterEnable: 'AUTO',
  PsiControl: 'USE_PSI',
  FilterStrength: 0,
  DeblockFilter: 'DISABLED',
  DenoiseFilter: 'DISABLED',
  TimecodeSource: 'EMBEDDED',
} as const;

function mp4Group(destination: string): OutputGroup {
  return {
    CustomName: 'MP4',
    Name: 'File Group',
    OutputGroupSettings: { Type: 'FILE_GROUP_SETTINGS', FileGroupSettings: { Destination: destination } },
    Outputs: [
      {
        ContainerSettings: { Container: 'MP4', Mp4Settings: { CslgAtom: 'INCLUDE', FreeSpaceBox: 'EXCLUDE', MoovPlacement: 'PROGRESSIVE_DOWNLOAD' } },
        VideoDescription: h264Video(1280, 720, 3_000_000),
        AudioDescriptions: [aacAudio],
      },
    ],
  };
}

function hlsGroup(destination: string): OutputGroup {
  return {
    CustomName: 'HLS',
    Name: 'Apple HLS',
    OutputGroupSettings: {
      Type: 'HLS_GROUP_SETTINGS',
      HlsGroupSettings: {
        ManifestDurationFormat: 'INTEGER',
        SegmentLength: 10,
        TimedMetadataId3Period: 10,
        CaptionLanguageSetting: 'OMIT',
        Destination: destination,
        TimedMetadataId3Frame: 'PRIV',
        CodecSpecification: 'RFC_4281',
        OutputSelection: 'MANIFESTS_AND_SEGMENTS',
        ProgramDateTimePeriod: 600,
        MinSegmentLength: 0,
        DirectoryStructure: 'SINGLE_DIRECTORY',
        ProgramDateTime: 'EXCLUDE',
        SegmentControl: 'SEGMENTED_FILES',
        ManifestCompression: 'NONE',
        ClientCache: 'ENABLED',
        StreamInfResolution: 'INCLUDE',
      },
    },
    Outputs: HLS_LADDER.map((r) => ({
      NameModifier: r.nameModifier,
      ContainerSettings: { Container: 'M3U8', M3u8Settings: {} },
      VideoDescription: h264Video(r.width, r.height, r.bitrate),
      AudioDescriptions: [aacAudio],
      OutputSettings: {
        HlsSettings: { AudioGroupId: 'program_audio', AudioRenditionSets: 'program_audio', SegmentModifier: '$dt$', IFrameOnlyManifest: 'EXCLUDE' },
      },
    })),
  };
}

function thumbnailGroup(destination: string): OutputGroup {
  return {
    CustomName: 'Thumbnails',
    Name: 'File Group',
    OutputGroupSettings: { Type: 'FILE_GROUP_SETTINGS', FileGroupSettings: { Destination: destination } },
    Outputs: [
      {
        ContainerSettings: { Container: 'RAW' },
        // One frame every 5 s, at most 500.
        VideoDescription: videoDescription(1280, 720, {
          Codec: 'FRAME_CAPTURE',
          FrameCaptureSettings: { FramerateNumerator: 1, FramerateDenominator: FRAME_CAPTURE_EVERY_S, MaxCaptures: MAX_FRAME_CAPTURES, Quality: 80 },
        }),
      },
    ],
  };
}

/** The three templates with destinations under `s3://<outputBucket>/<prefix>/`. */
export function jobTemplates(outputBucket: string, prefix = 'default'): Record<JobTemplateName, JobTemplateDefinition> {
  const dest = (folder: string) => outputDestination(outputBucket, prefix, folder);
  const inputs = [{ ...inputTemplate }] satisfies JobTemplateSettings['Inputs'];
  return {
    mp4: {
      name: 'mp4',
      description: 'vidpipe: MP4 H.264/AAC 720p',
      settings: { Inputs: inputs, OutputGroups: [mp4Group(dest(OUTPUT_FOLDERS.mp4))] },
    },
    hls: {
      name: 'hls',
      description: 'vidpipe: HLS ABR ladder 360p/540p/720p/1080p',
      settings: { Inputs: inputs, OutputGroups: [hlsGroup(dest(OUTPUT_FOLDERS.hls))] },
    },
    thumbnails: {
      name: 'thumbnails',
      description: 'vidpipe: MP4 720p with frame-capture thumbnails every 5 s',
      settings: {
        Inputs: inputs,
        OutputGroups: [mp4Group(dest(OUTPUT_FOLDERS.mp4)), thumbnailGroup(dest(OUTPUT_FOLDERS.thumbnails))],
      },
    },
  };
}

/** The MediaConvert name of an installed template: deterministic from the app name. */
export function jobTemplateResourceName(app: string, template: JobTemplateName): string {
  return `${app}-${template}`;
}

/**
 * The files a job from these templates writes, for an input base name (without extension): what COMPLETE events
 * name in outputFilePaths / playlistFilePaths. The simulator's defaults follow this.
 */
export function expectedOutputs(outputBucket: string, prefix: string, basename: string) {
  const dest = (folder: string) => outputDestination(outputBucket, prefix, folder);
  return {
    mp4: `${dest(OUTPUT_FOLDERS.mp4)}${basename}.mp4`,
    hlsPlaylist: `${dest(OUTPUT_FOLDERS.hls)}${basename}.m3u8`,
    hlsRenditions: HLS_LADDER.map((r) => ({ path: `${dest(OUTPUT_FOLDERS.hls)}${basename}${r.nameModifier}.m3u8`, width: r.width, height: r.height })),
    /**
     * The last of `captures` captured frames (what MediaConvert reports in outputFilePaths): frames are numbered from
     * .0000000, so the last is captures − 1; the first is thumbnail(1).
     */
    thumbnail: (captures: number) => `${dest(OUTPUT_FOLDERS.thumbnails)}${frameCaptureName(basename, Math.max(0, captures - 1))}`,
  };
}
