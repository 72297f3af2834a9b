# toolsim server image: the virtual tool API on port 8080, state in /data.
# Point the simulator at an OpenAI-compatible endpoint (e.g. vLLM) with
# TOOLSIM_SIMULATOR__BASE_URL / TOOLSIM_SIMULATOR__MODEL, or share a cache with TOOLSIM_CACHE__URL.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    TOOLSIM_HOME=/data \
    TOOLSIM_SERVER__HOST=0.0.0.0 \
    TOOLSIM_SERVER__PORT=8080

WORKDIR /app
COPY pyproject.toml README.md ./
COPY toolsim ./toolsim
RUN pip install . && useradd --create-home --uid 1000 toolsim && mkdir -p /data \
    && chown toolsim /data

USER toolsim
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request,os; urllib.request.urlopen(f'http://127.0.0.1:{os.environ[\"TOOLSIM_SERVER__PORT\"]}/healthz')"
CMD ["toolsim", "serve"]
