/**
 * A GGUF matrix dequantized on the GPU: its blocks sit in GPU memory as raw bytes (an int32 tensor, uploaded
 * once), and a WGSL program writes the float32 matrix [rows, cols] for one product at a time. Each thread
 * decodes one value from its block in llama.cpp's `dequantize_row_*` operation order: every product there is
 * either exact in float32 or a single rounding, so the values are those of the host decoders (the test checks
 * bit equality) and no float32 model ever sits on the GPU or crosses the bus.
 *
 * Types with a shader: the ones issue 23 names (F16, BF16, Q4_0, Q8_0, Q4_K, Q5_K, Q6_K); the others are
 * dequantized on the host, one matrix per product (storedProduct.ts).
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
      body: `let q = byteAt(at + 2 + (j & 15)) >> (u32(j >> 4) * 4u);
        let value = f32(i32(q & 15u) - 8) * halfAt(at);`,
    },
  ],
  [GgmlType.Q8_0, { blockSize: 32, typeSize: 34, body: "let value = f32(signedByteAt(at + 2 + j)) * halfAt(at);" }],
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
