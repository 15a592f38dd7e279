/**
 * Readable one-line descriptions of frames for logs.
 * @module
 */
import type { Frame, MetricValue } from './types.js'

function metricList(values: readonly MetricValue[]): string {
  return `[${values.map((v) => `${v.processor}=${v.value}`).join(', ')}]`
}

/**
 * `"<name>(<fields>)"`, e.g. `TextFrame#0(text: "hi")`; text is quoted as a JSON string (so `" "`, `""` and line
 * breaks stay visible), binary payloads are shown by size only.
 * @example
 * ```ts
 * Frames.format(Frames.error('boom')) // 'ErrorFrame#0(error: boom, fatal: false)'
 * ```
 */
export function format(frame: Frame): string {
  if (frame.kind === 'app') {
    let data: string
    try {
      data = JSON.stringify(frame.data) ?? String(frame.data)
    } catch {
      data = String(frame.data)
    }
    if (data.length > 120) data = `${data.slice(0, 120)}…`
    return `${frame.name}(data: ${data})`
  }
  switch (frame.type) {
    case 'text':
      return `${frame.name}(text: ${JSON.stringify(frame.text)})`
    case 'audioRaw':
      return `${frame.name}(bytes: ${frame.audio.length}, frames: ${frame.numFrames}, sampleRate: ${frame.sampleRate}, channels: ${frame.numChannels}, sampleWidth: ${frame.sampleWidth})`
    case 'imageRaw':
      return `${frame.name}(bytes: ${frame.image.length}, size: ${frame.size[0]}x${frame.size[1]}, format: ${frame.format}, mode: ${frame.mode})`
    case 'error':
      return `${frame.name}(error: ${frame.error}, fatal: ${frame.fatal}${frame.processor === undefined ? '' : `, processor: ${frame.processor}`})`
    case 'metrics':
      return `${frame.name}(ttfb: ${metricList(frame.ttfb)}, processing: ${metricList(frame.processing)}, tokens: ${metricList(frame.tokens)}, characters: ${metricList(frame.characters)})`
    case 'start':
      return `${frame.name}(allowInterruptions: ${frame.allowInterruptions}, enableMetrics: ${frame.enableMetrics}, enableUsageMetrics: ${frame.enableUsageMetrics}, reportOnlyInitialTtfb: ${frame.reportOnlyInitialTtfb}, audioInSampleRate: ${frame.audioInSampleRate}, audioOutSampleRate: ${frame.audioOutSampleRate})`
    default:
      return frame.name
  }
}
