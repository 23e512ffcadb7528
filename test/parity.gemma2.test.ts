/** tfjs student vs llama.cpp on random-weight gemma2 models in every supported tensor type (see helpers/randomModelParity.ts). */
import { describeRandomModelParity } from "./helpers/randomModelParity.js";

describeRandomModelParity("gemma2");
