import fc from 'fast-check'
import { afterEach, describe, expect, it, vi } from 'vitest'
import * as Frames from '../../lib/frames/index.js'
import type { Frame } from '../../lib/frames/types.js'
import { FrameDecodeError, FrameEncodeError } from '../../lib/wire/errors.js'
import { jsonSerializer } from '../../lib/wire/json.js'
import { MAX_JSON_DEPTH } from '../../lib/wire/json-value.js'
import { arbAnyFrame } from './arb.js'

const ser = jsonSerializer()
const id = <F extends Frame>(frame: F, n: number): F => Frames.withIdentity(frame, n, frame.name.replace(/#\d+$/, '#0'))

function decodeError(data: string | Uint8Array): FrameDecodeError {
  try {
    ser.deserialize(data)
  } catch (err) {
    expect(err).toBeInstanceOf(FrameDecodeError)
    return err as FrameDecodeError
  }
  throw new Error(`expected a FrameDecodeError for ${String(data)}`)
}

function encodeError(frame: Frame): FrameEncodeError {
  try {
    ser.serialize(frame)
  } catch (err) {
    expect(err).toBeInstanceOf(FrameEncodeError)
    return err as FrameEncodeError
  }
  throw new Error('expected a FrameEncodeError')
}

const PROTO_KEYS = Object.getOwnPropertyNames(Object.prototype).sort()
afterEach(() => {
  // no decode may ever touch Object.prototype
  expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(PROTO_KEYS)
  expect(({} as Record<string, unknown>)['polluted']).toBeUndefined()
})

describe('JSON format: one object per frame', () => {
  const examples: ReadonlyArray<[string, () => Frame, string]> = [
    ['text', () => id(Frames.text('hello world'), 1), '{"kind":"data","type":"text","id":1,"name":"TextFrame#0","text":"hello world"}'],
    [
      'audioRaw (bytes as base64, numFrames not sent)',
      () => id(Frames.audioRaw({ audio: Uint8Array.from([0, 1, 2, 3, 4, 5, 6, 7]) }), 2),
      '{"kind":"data","type":"audioRaw","id":2,"name":"AudioRawFrame#0","audio":"AAECAwQFBgc=","sampleRate":16000,"numChannels":1,"sampleWidth":2}',
    ],
    [
      'imageRaw (size as [w, h], null kept)',
      () => id(Frames.imageRaw({ image: Uint8Array.from([10, 20, 30]), size: [1920, 1080], format: 'jpeg' }), 3),
      '{"kind":"data","type":"imageRaw","id":3,"name":"ImageRawFrame#0","image":"ChQe","size":[1920,1080],"format":"jpeg","mode":null}',
    ],
    [
      'start',
      () => id(Frames.start({ allowInterruptions: true }), 4),
      '{"kind":"control","type":"start","id":4,"name":"StartFrame#0","allowInterruptions":true,"enableMetrics":false,"enableUsageMetrics":false,"reportOnlyInitialTtfb":false,"audioInSampleRate":16000,"audioOutSampleRate":24000}',
    ],
    ['end', () => id(Frames.end(), 5), '{"kind":"control","type":"end","id":5,"name":"EndFrame#0"}'],
    [
      'error with processor',
      () => id(Frames.error('boom', { fatal: true, processor: 'llm' }), 6),
      '{"kind":"system","type":"error","id":6,"name":"ErrorFrame#0","error":"boom","fatal":true,"processor":"llm"}',
    ],
    [
      'metrics',
      () => id(Frames.metrics({ ttfb: [{ processor: 'tts', value: 0.25 }] }), 7),
      '{"kind":"system","type":"metrics","id":7,"name":"MetricsFrame#0","ttfb":[{"processor":"tts","value":0.25}],"processing":[],"tokens":[],"characters":[]}',
    ],
    ['interruption', () => id(Frames.interruption(), 8), '{"kind":"system","type":"interruption","id":8,"name":"InterruptionFrame#0"}'],
    [
      'app frame (data as JSON)',
      () => id(Frames.app('transcript', { text: 'hi', final: true }), 9),
      '{"kind":"app","type":"transcript","id":9,"name":"transcript#0","data":{"text":"hi","final":true}}',
    ],
  ]
  for (const [label, make, json] of examples) {
    it(`writes ${label} as documented and reads it back`, () => {
      expect(ser.serialize(make())).toBe(json)
      expect(ser.deserialize(json)).toEqual(make())
    })
  }

  it('round-trips every frame type losslessly, through a string and through UTF-8 bytes', () => {
    fc.assert(
      fc.property(arbAnyFrame(), (frame) => {
        const text = ser.serialize(frame)
        expect(ser.deserialize(text)).toEqual(frame)
        expect(ser.deserialize(new TextEncoder().encode(text))).toEqual(frame)
      }),
      { numRuns: 500 },
    )
  })

  it('keeps lone surrogates (JSON escapes them) and accepts keys in any order', () => {
    const frame = id(Frames.text('a\ud800b'), 3)
    expect(ser.deserialize(ser.serialize(frame))).toEqual(frame)
    expect(ser.deserialize('{"text":"x","name":"TextFrame#0","id":3,"type":"text","kind":"data"}')).toEqual(id(Frames.text('x'), 3))
  })

  it('derives numFrames through the constructor, ignores nothing it does not know', () => {
    const frame = ser.deserialize(
      '{"kind":"data","type":"audioRaw","id":2,"name":"A#0","audio":"AAECAwQFBgc=","sampleRate":8000,"numChannels":2,"sampleWidth":2}',
    )
    expect(frame).toMatchObject({ numFrames: 2, sampleRate: 8000 })
    expect(decodeError('{"kind":"data","type":"audioRaw","id":2,"name":"A#0","audio":"","sampleRate":8000,"numChannels":2,"sampleWidth":2,"numFrames":0}').message).toMatch(/numFrames/)
  })

  it('does not send an error frame’s in-memory cause', () => {
    const frame = Frames.error(new Error('boom'))
    expect(frame.cause).toBeInstanceOf(Error)
    const back = ser.deserialize(ser.serialize(frame))
    expect(back).toEqual({ kind: 'system', type: 'error', id: frame.id, name: frame.name, error: 'boom', fatal: false })
  })

  it('writes -0 in app data and metrics as 0 (JSON has no negative zero)', () => {
    const back = ser.deserialize(ser.serialize(Frames.app('x', { v: -0 }))) as { data: { v: number } }
    expect(Object.is(back.data.v, 0)).toBe(true)
  })

  it('supports every built-in frame and app frames', () => {
    expect(ser.supports(Frames.start())).toBe(true)
    expect(ser.supports(Frames.app('x', 1))).toBe(true)
  })
})

describe('JSON bad input: FrameDecodeError, never a crash or prototype pollution', () => {
  const text = (extra: string): string => `{"kind":"data","type":"text","id":1,"name":"TextFrame#0","text":"x"${extra}}`
  const audio = (field: string): string =>
    `{"kind":"data","type":"audioRaw","id":1,"name":"A#0","audio":"AAE=","sampleRate":16000,"numChannels":1,"sampleWidth":2,${field}}`
  const image = (size: string): string =>
    `{"kind":"data","type":"imageRaw","id":1,"name":"I#0","image":"","size":${size},"format":null,"mode":null}`
  const cases: ReadonlyArray<[string, string, RegExp]> = [
    ['not JSON', '{"kind":', /not JSON/],
    ['an empty string', '', /not JSON/],
    ['a JSON array', '[1,2]', /object/],
    ['JSON null', 'null', /object/],
    ['a JSON number', '42', /object/],
    ['no type', '{"kind":"data","id":1,"name":"x"}', /type/],
    ['an empty type', '{"kind":"app","type":"","id":1,"name":"x","data":1}', /type/],
    ['an unknown built-in-looking type', '{"kind":"data","type":"video","id":1,"name":"x"}', /unknown frame type/],
    ['a kind that does not match the type', '{"kind":"system","type":"text","id":1,"name":"x","text":"y"}', /kind/],
    ['an app frame using a built-in type', '{"kind":"app","type":"text","id":1,"name":"x","data":1}', /kind/],
    ['a missing field', '{"kind":"data","type":"text","id":1,"name":"x"}', /missing text/],
    ['an unknown key', text(',"extra":1'), /unknown key "extra"/],
    ['a "__proto__" key', text(',"__proto__":{"polluted":1}'), /unknown key "__proto__"/],
    ['a "constructor" key', text(',"constructor":{"prototype":{"polluted":1}}'), /unknown key "constructor"/],
    ['a "__proto__" key in app data', '{"kind":"app","type":"t","id":1,"name":"t#0","data":{"a":[{"__proto__":{"polluted":1}}]}}', /__proto__/],
    ['a text that is a number', '{"kind":"data","type":"text","id":1,"name":"x","text":5}', /text must be a string/],
    ['an id that is a string', '{"kind":"control","type":"end","id":"1","name":"x"}', /id/],
    ['a negative id', '{"kind":"control","type":"end","id":-1,"name":"x"}', /id/],
    ['a fractional id', '{"kind":"control","type":"end","id":1.5,"name":"x"}', /id/],
    ['an id above 2^53 - 1', '{"kind":"control","type":"end","id":9007199254740992,"name":"x"}', /id/],
    ['a name that is not a string', '{"kind":"control","type":"end","id":1,"name":null}', /name/],
    ['a fatal that is a string', '{"kind":"system","type":"error","id":1,"name":"x","error":"e","fatal":"yes"}', /fatal must be a boolean/],
    ['a processor that is null', '{"kind":"system","type":"error","id":1,"name":"x","error":"e","fatal":false,"processor":null}', /processor/],
    ['a sampleRate of 0', audio('"extra":0').replace('"sampleRate":16000', '"sampleRate":0').replace(',"extra":0', ''), /sampleRate/],
    ['a sampleRate that is a string', audio('"x":1').replace('"sampleRate":16000', '"sampleRate":"16000"').replace(',"x":1', ''), /sampleRate/],
    ['a fractional numChannels', audio('"x":1').replace('"numChannels":1', '"numChannels":1.5').replace(',"x":1', ''), /numChannels/],
    ['audio without padding', audio('"x":1').replace('"AAE="', '"AAE"').replace(',"x":1', ''), /base64/],
    ['audio with a stray character', audio('"x":1').replace('"AAE="', '"A@E="').replace(',"x":1', ''), /base64/],
    ['audio with whitespace', audio('"x":1').replace('"AAE="', '"AA E="').replace(',"x":1', ''), /base64/],
    ['audio in the URL alphabet', audio('"x":1').replace('"AAE="', '"-_E="').replace(',"x":1', ''), /base64/],
    ['audio as an array', audio('"x":1').replace('"AAE="', '[0,1]').replace(',"x":1', ''), /base64/],
    ['a size string', image('"1920x1080"'), /size/],
    ['a size of one number', image('[1920]'), /size/],
    ['a negative size', image('[-1,2]'), /size/],
    ['a fractional size', image('[1.5,2]'), /size/],
    ['a format that is a number', image('[1,2]').replace('"format":null', '"format":5'), /format/],
    ['metrics that are not an array', '{"kind":"system","type":"metrics","id":1,"name":"x","ttfb":{},"processing":[],"tokens":[],"characters":[]}', /ttfb/],
    ['a metric with an extra key', '{"kind":"system","type":"metrics","id":1,"name":"x","ttfb":[{"processor":"a","value":1,"x":2}],"processing":[],"tokens":[],"characters":[]}', /unknown key "x"/],
    ['a metric value that is a string', '{"kind":"system","type":"metrics","id":1,"name":"x","ttfb":[{"processor":"a","value":"1"}],"processing":[],"tokens":[],"characters":[]}', /finite number/],
    ['a start flag that is a number', '{"kind":"control","type":"start","id":1,"name":"x","allowInterruptions":1,"enableMetrics":false,"enableUsageMetrics":false,"reportOnlyInitialTtfb":false,"audioInSampleRate":16000,"audioOutSampleRate":24000}', /allowInterruptions/],
  ]
  for (const [label, input, pattern] of cases) {
    it(`refuses ${label}`, () => {
      expect(decodeError(input).message).toMatch(pattern)
    })
  }

  it('refuses bytes that are not UTF-8, and non-text input', () => {
    expect(decodeError(Uint8Array.from([0x7b, 0xff, 0x7d])).message).toMatch(/UTF-8/)
    expect(() => ser.deserialize(undefined as unknown as string)).toThrow(FrameDecodeError)
    expect(() => ser.deserialize({} as unknown as string)).toThrow(FrameDecodeError)
  })

  it('keeps "constructor" and "prototype" in app data as plain own data', () => {
    const frame = ser.deserialize(
      '{"kind":"app","type":"t","id":1,"name":"t#0","data":{"constructor":{"prototype":{"polluted":1}},"prototype":2}}',
    ) as { data: Record<string, unknown> }
    expect(Object.keys(frame.data)).toEqual(['constructor', 'prototype'])
    expect(Object.getPrototypeOf(frame.data)).toBe(Object.prototype)
  })

  it(`refuses app data nested deeper than ${MAX_JSON_DEPTH} levels`, () => {
    const deep = `${'['.repeat(MAX_JSON_DEPTH + 1)}${']'.repeat(MAX_JSON_DEPTH + 1)}`
    expect(decodeError(`{"kind":"app","type":"t","id":1,"name":"t#0","data":${deep}}`).message).toMatch(/deeper/)
    const veryDeep = `${'['.repeat(200_000)}${']'.repeat(200_000)}`
    decodeError(`{"kind":"app","type":"t","id":1,"name":"t#0","data":${veryDeep}}`)
  })

  it('checks the nesting depth before JSON.parse: input nested a million deep never reaches the parser', () => {
    const parse = vi.spyOn(JSON, 'parse')
    try {
      const million = `${'['.repeat(1_000_000)}${']'.repeat(1_000_000)}`
      expect(decodeError(million).message).toMatch(/deeper than 256 levels/)
      expect(decodeError(`{"kind":"app","type":"t","id":1,"name":"t#0","data":${million}}`).message).toMatch(/deeper than 256 levels/)
      expect(decodeError(new TextEncoder().encode(`{"data":${'{"a":'.repeat(300)}1${'}'.repeat(300)}}`)).message).toMatch(/deeper/)
      expect(parse).not.toHaveBeenCalled()
    } finally {
      parse.mockRestore()
    }
  })

  it(`accepts exactly ${MAX_JSON_DEPTH} levels of app data, the most the encoder writes; brackets in strings do not count`, () => {
    let data: unknown = 'x [[{{ \\" ]]'
    for (let i = 1; i < MAX_JSON_DEPTH; i++) data = i % 2 === 0 ? [data] : { k: data, s: '"[{' }
    const deepest = Frames.app('deep', [data])
    expect(ser.deserialize(ser.serialize(deepest))).toEqual(deepest)
    expect(() => ser.serialize(Frames.app('deep', [[data]]))).toThrow(FrameEncodeError)
    expect(decodeError(ser.serialize(deepest).replace('"data":', '"data":[').replace(/}$/, ']}')).message).toMatch(/deeper/)
  })
})

describe('JSON encoding: app data must be plain JSON', () => {
  class Point {
    constructor(readonly x: number) {}
  }
  const cyclic: Record<string, unknown> = {}
  cyclic['self'] = cyclic
  const sparse = [1, , 3] // eslint-disable-line no-sparse-arrays
  const extraProp = Object.assign([1, 2], { tag: 'x' })
  const withSymbol = { [Symbol('s')]: 1 }
  const withProtoKey = JSON.parse('{"__proto__":{"polluted":1}}') as unknown
  let deep: unknown = 1
  for (let i = 0; i <= MAX_JSON_DEPTH; i++) deep = [deep]
  const bad: ReadonlyArray<[string, unknown, RegExp]> = [
    ['undefined', undefined, /undefined/],
    ['a nested undefined', { a: { b: undefined } }, /data\.a\.b is undefined/],
    ['a function', { f: () => 1 }, /function/],
    ['a bigint', 1n, /bigint/],
    ['NaN', [Number.NaN], /NaN/],
    ['Infinity', { x: Number.POSITIVE_INFINITY }, /Infinity/],
    ['a Date', { when: new Date(0) }, /class Date/],
    ['a Map', new Map(), /class Map/],
    ['a Uint8Array', new Uint8Array(2), /class Uint8Array/],
    ['a class instance', new Point(1), /class Point/],
    ['a cycle', cyclic, /cycle/],
    ['a sparse array', sparse, /sparse/],
    ['an array with extra properties', extraProp, /extra properties/],
    ['symbol keys', withSymbol, /symbol keys/],
    ['a "__proto__" own key', withProtoKey, /__proto__/],
    ['too deep nesting', deep, /deeper/],
  ]
  for (const [label, data, pattern] of bad) {
    it(`refuses ${label} with FrameEncodeError`, () => {
      const err = encodeError(Frames.app('payload', data))
      expect(err.frameType).toBe('payload')
      expect(err.message).toMatch(pattern)
    })
  }

  it('accepts null-prototype objects and shared (non-cyclic) references', () => {
    const shared = { a: 1 }
    const data = Object.assign(Object.create(null) as Record<string, unknown>, { x: shared, y: shared })
    const back = ser.deserialize(ser.serialize(Frames.app('p', data))) as { data: unknown }
    expect(back.data).toEqual({ x: { a: 1 }, y: { a: 1 } })
  })

  it('refuses hand-made built-in frames with wrong field types', () => {
    expect(encodeError({ ...Frames.text('x'), text: 5 } as unknown as Frame).message).toMatch(/text must be a string/)
    expect(encodeError({ ...Frames.audioRaw({ audio: new Uint8Array(0) }), audio: 'AA==' } as unknown as Frame).message).toMatch(/Uint8Array/)
    expect(encodeError({ ...Frames.end(), kind: 'data' } as unknown as Frame).message).toMatch(/kind/)
    expect(encodeError({ ...Frames.end(), id: 1.5 } as unknown as Frame).message).toMatch(/id/)
    expect(() => ser.serialize(null as unknown as Frame)).toThrow(FrameEncodeError)
  })
})
