/**
 * A GGUF matrix dequantized on the GPU: its blocks sit in GPU memory as raw bytes (an int32 tensor, uploaded
 * once), and a WGSL program writes the float32 matrix [rows, cols] for one product at a time. Each thread
 * decodes one value from its block in llama.cpp's `dequantize_row_*` operation order: every product there is
 * either exact in float32 or a single rounding, so the values are those of the host decoders (the test checks
 * bit equality) and no float32 model ever sits on the GPU or crosses the bus.
 *
 * Every type the student reads has a shader (F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K–Q6_K, IQ4_NL, IQ4_XS).
 */
import * as tf from "@tensorflow/tfjs";
import { GgmlType } from "../gguf/ggmlType.js";

/** The part of tfjs-backend-webgpu's WebGPUBackend this needs (its program interface, WebGPUProgram). */
interface WebGpuProgramRunner {
  runWebGPUProgram(program: object, inputs: tf.TensorInfo[], dtype: "float32", uniforms: { type: "int32"; data: number[] }[]): tf.TensorInfo;
}

/** Byte and half-float reads from the blocks (little-endian bytes packed four to an i32). */
const helpers = /* wgsl */ `
  fn byteAt(i : i32) -> u32 {
    return (bitcast<u32>(blocks[i >> 2u]) >> (u32(i & 3) * 8u)) & 255u;
  }
  fn signedByteAt(i : i32) -> i32 {
    return bitcast<i32>(byteAt(i) << 24u) >> 24u;
  }
  // IEEE half to float, by bits: exact for every half, subnormals included (unpack2x16float may flush them).
  fn halfAt(i : i32) -> f32 {
    let h = byteAt(i) | (byteAt(i + 1) << 8u);
    let sign = (h >> 15u) << 31u;
    let e = (h >> 10u) & 31u;
    let m = h & 1023u;
    if (e == 0u) {
      let v = f32(m) * 5.9604644775390625e-8;
      return select(v, -v, sign != 0u);
    }
    if (e == 31u) {
      return bitcast<f32>(sign | 0x7f800000u | (m << 13u));
    }
    return bitcast<f32>(sign | ((e + 112u) << 23u) | (m << 13u));
  }
  // ggml's get_scale_min_k4: the 6-bit scale and min of sub-block j from the 12 scale bytes at s.
  fn scaleK4(s : i32, j : i32) -> u32 {
    if (j < 4) { return byteAt(s + j) & 63u; }
    return (byteAt(s + j + 4) & 15u) | ((byteAt(s + j - 4) >> 6u) << 4u);
  }
  fn minK4(s : i32, j : i32) -> u32 {
    if (j < 4) { return byteAt(s + j + 4) & 63u; }
    return (byteAt(s + j + 4) >> 4u) | ((byteAt(s + j) >> 6u) << 4u);
  }
  // Bit j of the bytes from i on (Q5_0 / Q5_1's fifth bits).
  fn bitAt(i : i32, j : i32) -> u32 {
    return (byteAt(i + (j >> 3)) >> u32(j & 7)) & 1u;
  }
  // The nibble of value j of a 32-value group whose 16 bytes start at i: low nibbles first.
  fn nibbleAt(i : i32, j : i32) -> u32 {
    return (byteAt(i + (j & 15)) >> (u32(j >> 4) * 4u)) & 15u;
  }
  var<private> iq4nl : array<f32, 16> = array<f32, 16>(-127.0, -104.0, -83.0, -65.0, -49.0, -35.0, -22.0, -10.0,
    1.0, 13.0, 25.0, 38.0, 53.0, 69.0, 89.0, 113.0);
`;

interface BlockShader {
  blockSize: number;
  typeSize: number;
  /** WGSL computing `value` from the block at byte `at` and the index `j` inside it. */
  body: string;
}

const shaders = new Map<GgmlType, BlockShader>([
  [GgmlType.F16, { blockSize: 1, typeSize: 2, body: "let value = halfAt(at);" }],
  [GgmlType.BF16, { blockSize: 1, typeSize: 2, body: "let value = bitcast<f32>((byteAt(at) | (byteAt(at + 1) << 8u)) << 16u);" }],
  [
    GgmlType.Q4_0,
    {
      blockSize: 32,
      typeSize: 18,
      body: "let value = f32(i32(nibbleAt(at + 2, j)) - 8) * halfAt(at);",
    },
  ],
  [GgmlType.Q8_0, { blockSize: 32, typeSize: 34, body: "let value = f32(signedByteAt(at + 2 + j)) * halfAt(at);" }],
  // d, m, 16 bytes of nibbles; q·d is exact, so q·d + m rounds once with or without a fused multiply-add.
  [GgmlType.Q4_1, { blockSize: 32, typeSize: 20, body: "let value = f32(nibbleAt(at + 4, j)) * halfAt(at) + halfAt(at + 2);" }],
  // d, 4 bytes of fifth bits, 16 bytes of nibbles.
  [GgmlType.Q5_0, { blockSize: 32, typeSize: 22, body: "let value = f32(i32(nibbleAt(at + 6, j) | (bitAt(at + 2, j) << 4u)) - 16) * halfAt(at);" }],
  [GgmlType.Q5_1, { blockSize: 32, typeSize: 24, body: "let value = f32(nibbleAt(at + 8, j) | (bitAt(at + 4, j) << 4u)) * halfAt(at) + halfAt(at + 2);" }],
  [GgmlType.IQ4_NL, { blockSize: 32, typeSize: 18, body: "let value = halfAt(at) * iq4nl[nibbleAt(at + 2, j)];" }],

  [
    GgmlType.Q2_K,
    {
      // 16 scale bytes (scale low nibble, min high), 64 bytes of 2-bit quants, d, dmin. Each 128 values share
      // 32 bytes, four values a byte at shifts 0, 2, 4, 6; every 16 values their own scale.
      blockSize: 256,
      typeSize: 84,
      body: `let sc = byteAt(at + (j >> 4));
        let q = (byteAt(at + 16 + 32 * (j >> 7) + (j & 31)) >> (u32((j >> 5) & 3) * 2u)) & 3u;
        let dl = halfAt(at + 80) * f32(sc & 15u);
        let ml = halfAt(at + 82) * f32(sc >> 4u);
        let value = dl * f32(q) - ml;`,
    },
  ],
  [
    GgmlType.Q3_K,
    {
      // 32 bytes of high bits (bit m of byte l: value 32m + l), 64 bytes of 2-bit quants laid out as Q2_K's,
      // 12 bytes packing sixteen 6-bit scales, d.
      blockSize: 256,
      typeSize: 110,
      body: `let is = j >> 4;
        let sl = select(byteAt(at + 96 + is - 8) >> 4u, byteAt(at + 96 + is) & 15u, is < 8);
        let sh = (byteAt(at + 104 + (is & 3)) >> (u32(is >> 2) * 2u)) & 3u;
        let low = (byteAt(at + 32 + 32 * (j >> 7) + (j & 31)) >> (u32((j >> 5) & 3) * 2u)) & 3u;
        let high = (byteAt(at + (j & 31)) >> u32(j >> 5)) & 1u;
        let dl = halfAt(at + 108) * f32(i32(sl | (sh << 4u)) - 32);
        let value = dl * f32(i32(low) - select(4, 0, high == 1u));`,
    },
  ],
  [
    GgmlType.IQ4_XS,
    {
      // d, 2 bytes of scales' high bits, 4 of their low nibbles, 128 bytes of IQ4_NL indices (16 a group of 32).
      blockSize: 256,
      typeSize: 136,
      body: `let ib = j >> 5;
        let sl = (byteAt(at + 4 + (ib >> 1)) >> (u32(ib & 1) * 4u)) & 15u;
        let sh = ((byteAt(at + 2) | (byteAt(at + 3) << 8u)) >> (u32(ib) * 2u)) & 3u;
        let dl = halfAt(at) * f32(i32(sl | (sh << 4u)) - 32);
        let value = dl * iq4nl[nibbleAt(at + 8 + 16 * ib, j & 31)];`,
    },
  ],
  [
    GgmlType.Q4_K,
    {
      // d, dmin, 12 scale bytes, 128 bytes of nibbles: 64 values share 32 bytes, low nibbles first.
      blockSize: 256,
      typeSize: 144,
      body: `let sub = j >> 5;
        let q = (byteAt(at + 16 + 32 * (j >> 6) + (j & 31)) >> (u32(sub & 1) * 4u)) & 15u;
        let d1 = halfAt(at) * f32(scaleK4(at + 4, sub));
        let m1 = halfAt(at + 2) * f32(minK4(at + 4, sub));
        let value = d1 * f32(q) - m1;`,
    },
  ],
  [
    GgmlType.Q5_K,
    {
      // d, dmin, 12 scale bytes, 32 bytes of fifth bits, 128 bytes of nibbles.
      blockSize: 256,
      typeSize: 176,
      body: `let sub = j >> 5;
        let low = (byteAt(at + 48 + 32 * (j >> 6) + (j & 31)) >> (u32(sub & 1) * 4u)) & 15u;
        let high = (byteAt(at + 16 + (j & 31)) >> u32(sub)) & 1u;
        let d1 = halfAt(at) * f32(scaleK4(at + 4, sub));
        let m1 = halfAt(at + 2) * f32(minK4(at + 4, sub));
        let value = d1 * f32(low + 16u * high) - m1;`,
    },
  ],
  [
    GgmlType.Q6_K,
    {
      // 128 bytes of low nibbles, 64 of high bit pairs, 16 signed scales, d; two halves of 128 values.
      blockSize: 256,
      typeSize: 210,
      body: `let part = j >> 7;
        let quarter = (j >> 5) & 3;
        let l = j & 31;
        let low = (byteAt(at + 64 * part + l + 32 * (quarter & 1)) >> (u32(quarter >> 1) * 4u)) & 15u;
        let high = (byteAt(at + 128 + 32 * part + l) >> (u32(quarter) * 2u)) & 3u;
        let scale = f32(signedByteAt(at + 192 + 8 * part + (l >> 4) + 2 * quarter));
        let value = (halfAt(at + 208) * scale) * f32(i32(low | (high << 4u)) - 32);`,
    },
  ],
]);

/** Whether the GPU dequantizes this type (else the host does). */
export function gpuDequantizes(type: GgmlType): boolean {
  return shaders.has(type);
}

/** The bytes as an int32 tensor (padded to whole words), for upload: the shader's `blocks`. */
export function blocksTensor(bytes: Uint8Array): tf.Tensor1D {
  const words = new Int32Array(Math.ceil(bytes.length / 4));
  new Uint8Array(words.buffer).set(bytes);
  return tf.keep(tf.tensor1d(words, "int32")); // made inside a product's tidy, kept with its matrix
}

/** The float32 [rows, cols] matrix of `blocks` (from blocksTensor) of `type`, computed on the WebGPU backend. */
export function dequantizeOnGpu(blocks: tf.Tensor1D, type: GgmlType, rows: number, cols: number): tf.Tensor2D {
  const shader = shaders.get(type);
  if (!shader) throw new Error(`dequantizeOnGpu: no shader for ggml type ${type}`);
  const size = rows * cols;
  const workgroup = 64;
  const program = {
    variableNames: ["blocks"],
    outputShape: [rows, cols],
    shaderKey: `llm2llm_dequantize_${type}`,
    dispatchLayout: { x: [0, 1] },
    dispatch: [Math.ceil(size / workgroup), 1, 1],
    workgroupSize: [workgroup, 1, 1],
    size: true,
    uniforms: "cols : i32, rowBytes : i32,",
    getUserCode: () => `
      ${helpers}
      fn main(index : i32) {
        if (index < uniforms.size) {
          let row = index / uniforms.cols;
          let col = index - row * uniforms.cols;
          let at = row * uniforms.rowBytes + (col / ${shader.blockSize}) * ${shader.typeSize};
          let j = col % ${shader.blockSize};
          ${shader.body}
          setOutputAtIndex(index, value);
        }
      }`,
  };
  const rowBytes = (cols / shader.blockSize) * shader.typeSize;
  const uniforms = [{ type: "int32" as const, data: [cols] }, { type: "int32" as const, data: [rowBytes] }];
  const info = (tf.backend() as unknown as WebGpuProgramRunner).runWebGPUProgram(program, [blocks], "float32", uniforms);
  return tf.engine().makeTensorFromTensorInfo(info) as tf.Tensor2D;
}
