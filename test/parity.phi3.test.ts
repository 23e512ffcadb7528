/** tfjs student vs llama.cpp on random-weight phi3 models in every supported tensor type (see helpers/randomModelParity.ts). */
import { describeRandomModelParity } from "./helpers/randomModelParity.js";

describeRandomModelParity("phi3");
