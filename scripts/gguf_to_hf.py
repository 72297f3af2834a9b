"""Convert a GGUF model into a Hugging Face folder that vLLM can load.

vLLM cannot load GGUF files on CPU, and nothing can be fetched from the model
hub here, so the weights *and* the tokenizer come from the GGUF alone.
transformers dequantises the weights to floats (fine for a 135M model).

Run it with an interpreter that has ``transformers``, ``gguf`` and ``torch``
(the vLLM venv of ``scripts/vllm_parity.sh``, not toolsim's)::

    python scripts/gguf_to_hf.py MODEL.gguf OUT_DIR
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

#: SmolLM2's ChatML format, used only when the GGUF carries no chat template.
CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, "
    "trained by Hugging Face<|im_end|>\n' }}"
    "{% endif %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)


def convert(gguf: Path, out_dir: Path) -> str:
    """Write model, tokenizer and chat template to ``out_dir``; say where the template came from."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, GgufConfig

    folder, name = str(gguf.parent), gguf.name
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    loaded = AutoModelForCausalLM.from_pretrained(
        folder,
        gguf_file=name,
        dtype=torch.float32,
        quantization_config=GgufConfig(dequantize=True),
    )
    # transformers refuses to save a model loaded through its GGUF quantizer even when
    # every weight was dequantised, so copy the weights into a plain model of that config.
    config = loaded.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    model.load_state_dict(loaded.state_dict())
    model.eval()
    origin = "gguf"
    if not tokenizer.chat_template:
        tokenizer.chat_template = CHATML_TEMPLATE
        origin = "built-in ChatML"
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    return origin


def _saved_template(out_dir: Path) -> str | None:
    """The chat template as saved (newer transformers write chat_template.jinja)."""
    jinja = out_dir / "chat_template.jinja"
    if jinja.is_file():
        return jinja.read_text()
    config = json.loads((out_dir / "tokenizer_config.json").read_text())
    return config.get("chat_template")


def main() -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("gguf", type=Path)
    parser.add_argument("out_dir", type=Path)
    args = parser.parse_args()
    origin = convert(args.gguf, args.out_dir)
    template = _saved_template(args.out_dir)
    if not template or "<|im_start|>" not in template:
        print(f"no ChatML chat template saved in {args.out_dir}", file=sys.stderr)
        return 1
    print(f"converted {args.gguf.name} -> {args.out_dir} (chat template: {origin})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
