#!/usr/bin/env python3
"""Random LoRA adapters for a Hugging Face model, for the calibrate --bench probe plan (docs/calibrate.md).

Writes, for every rank asked and `--count` times each, a directory <out>/lora-r<rank>-<i>/ in PEFT's format
(adapter_config.json from peft's LoraConfig, adapter_model.safetensors with PEFT's tensor names), which
`vllm serve --enable-lora --lora-modules name=path` loads. The weights are random: serving cost does not depend
on their values, and the base model's weights are never downloaded (only its config.json), so this runs in
seconds on a laptop. Llama-like decoders only (Llama 2/3.x, Mistral, Qwen 2/2.5/3, Gemma 1/2): the attention and
MLP projections vLLM applies LoRA to.

Needs: pip install torch safetensors transformers peft

  python3 scripts/make-random-loras.py --model meta-llama/Llama-3.1-8B-Instruct --ranks 8,16 --count 4 \\
      --out /models/lora

prints the --lora-modules arguments for vllm serve and the "loraModules" list for calibrate's server file.
"""

import argparse
import json
import os
import sys

import torch
from peft import LoraConfig
from safetensors.torch import save_file
from transformers import AutoConfig

ATTENTION = ["q_proj", "k_proj", "v_proj", "o_proj"]
MLP = ["gate_proj", "up_proj", "down_proj"]
LLAMA_LIKE = {
    "LlamaForCausalLM",
    "MistralForCausalLM",
    "Qwen2ForCausalLM",
    "Qwen3ForCausalLM",
    "GemmaForCausalLM",
    "Gemma2ForCausalLM",
}


def shapes(config, module):
    """(in_features, out_features) of one projection of a llama-like decoder layer."""
    hidden = config.hidden_size
    heads = config.num_attention_heads
    kv_heads = getattr(config, "num_key_value_heads", None) or heads
    head_dim = getattr(config, "head_dim", None) or hidden // heads
    inter = config.intermediate_size
    return {
        "q_proj": (hidden, heads * head_dim),
        "k_proj": (hidden, kv_heads * head_dim),
        "v_proj": (hidden, kv_heads * head_dim),
        "o_proj": (heads * head_dim, hidden),
        "gate_proj": (hidden, inter),
        "up_proj": (hidden, inter),
        "down_proj": (inter, hidden),
    }[module]


def adapter_tensors(config, rank, modules, generator, dtype):
    """PEFT's names and shapes: lora_A is (rank, in), lora_B is (out, rank)."""
    tensors = {}
    for layer in range(config.num_hidden_layers):
        for module in modules:
            block = "self_attn" if module in ATTENTION else "mlp"
            d_in, d_out = shapes(config, module)
            prefix = f"base_model.model.model.layers.{layer}.{block}.{module}"
            # small values: the adapted model stays close to the base model (and its outputs readable)
            a = torch.randn(rank, d_in, generator=generator) / d_in**0.5
            b = torch.randn(d_out, rank, generator=generator) * 0.01 / rank**0.5
            tensors[f"{prefix}.lora_A.weight"] = a.to(dtype).contiguous()
            tensors[f"{prefix}.lora_B.weight"] = b.to(dtype).contiguous()
    return tensors


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", required=True, help="Hugging Face id or local directory of the base model")
    parser.add_argument("--ranks", default="8,16", help="comma-separated LoRA ranks (default 8,16)")
    parser.add_argument("--count", type=int, default=4, help="adapters per rank (default 4)")
    parser.add_argument("--out", required=True, help="directory to write the adapters into")
    parser.add_argument("--modules", default=",".join(ATTENTION + MLP), help="target modules (default: all seven)")
    parser.add_argument("--dtype", default="bfloat16", choices=["bfloat16", "float16", "float32"])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    config = AutoConfig.from_pretrained(args.model)
    architecture = (config.architectures or ["?"])[0]
    if architecture not in LLAMA_LIKE:
        sys.exit(f"{args.model}: {architecture} is not a llama-like decoder this script knows ({sorted(LLAMA_LIKE)})")
    modules = [m.strip() for m in args.modules.split(",") if m.strip()]
    unknown = [m for m in modules if m not in ATTENTION + MLP]
    if unknown:
        sys.exit(f"--modules: unknown {unknown} (choose from {ATTENTION + MLP})")
    ranks = [int(r) for r in args.ranks.split(",")]
    dtype = getattr(torch, args.dtype)
    generator = torch.Generator().manual_seed(args.seed)

    made = []
    for rank in ranks:
        for i in range(args.count):
            name = f"lora-r{rank}-{i}"
            path = os.path.abspath(os.path.join(args.out, name))
            os.makedirs(path, exist_ok=True)
            lora = LoraConfig(
                r=rank,
                lora_alpha=2 * rank,
                lora_dropout=0.0,
                target_modules=modules,
                bias="none",
                task_type="CAUSAL_LM",
                base_model_name_or_path=args.model,
            )
            lora.save_pretrained(path)
            tensors = adapter_tensors(config, rank, modules, generator, dtype)
            save_file(tensors, os.path.join(path, "adapter_model.safetensors"))
            made.append((name, rank, path))
            print(f"wrote {path}", file=sys.stderr)

    print("--lora-modules " + " ".join(f"{name}={path}" for name, _, path in made))
    print(json.dumps({"loraModules": [{"name": name, "rank": rank} for name, rank, _ in made]}))


if __name__ == "__main__":
    main()
