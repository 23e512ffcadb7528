#!/usr/bin/env node
// `npm run bench -- <name> [--json]`: runs benchmarks/<name>.ts.
import { register } from "tsx/esm/api";

register();
await import("../benchmarks/main.ts");
