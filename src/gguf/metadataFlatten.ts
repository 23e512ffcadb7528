/** node-llama-cpp nests metadata by the dots of its keys; this gives back the flat GGUF keys. */
export function flattenMetadata(nested: Record<string, unknown>, prefix = "", out: Record<string, unknown> = {}): Record<string, unknown> {
  for (const [key, value] of Object.entries(nested)) {
    const fullKey = prefix ? `${prefix}.${key}` : key;
    if (value !== null && typeof value === "object" && !Array.isArray(value) && !ArrayBuffer.isView(value)) {
      flattenMetadata(value as Record<string, unknown>, fullKey, out);
    } else {
      out[fullKey] = value;
    }
  }
  return out;
}
