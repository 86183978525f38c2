# nnplayground image. CPU (default):
#   docker build -t nnplayground . && docker run -p 8000:8000 -v nnpg-data:/data nnplayground
# NVIDIA GPU (PyPI's default torch build ships its CUDA libraries; the host needs the driver and
# the NVIDIA container toolkit), or use docker-compose.gpu.yml:
#   docker build -t nnplayground:cuda --build-arg TORCH_INDEX_URL= \
#     --build-arg BASE_IMAGE=nvidia/cuda:12.4.1-runtime-ubuntu22.04 .
#   docker run --gpus all -p 8000:8000 -v nnpg-data:/data nnplayground:cuda
ARG BASE_IMAGE=python:3.11-slim
FROM ${BASE_IMAGE}

# Which torch to install, and from where: by default the CPU build from PyTorch's own index
# (small); an empty TORCH_INDEX_URL takes PyPI's default build (CUDA on Linux x86-64), and
# e.g. https://download.pytorch.org/whl/cu124 picks a CUDA version.
ARG TORCH_SPEC=torch==2.13.0
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH

# Python 3.11 in a venv: python:3.11-slim has it; an Ubuntu-based CUDA image gets it from apt.
RUN set -eux; \
    if ! command -v python3.11 >/dev/null 2>&1; then \
        apt-get update; \
        DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
            python3.11 python3.11-venv ca-certificates; \
        rm -rf /var/lib/apt/lists/*; \
    fi; \
    python3.11 -m venv "$VIRTUAL_ENV"; \
    pip install --upgrade pip

# torch first, in its own layer: it is by far the largest and changes least often.
RUN set -eux; \
    if [ -n "$TORCH_INDEX_URL" ]; then \
        pip install --index-url "$TORCH_INDEX_URL" "$TORCH_SPEC"; \
    else \
        pip install "$TORCH_SPEC"; \
    fi

WORKDIR /app
COPY pyproject.toml README.md ./
COPY backend ./backend
# Editable, so the code stays at /app/backend next to /app/frontend (the repo layout); the
# installed torch satisfies the package's requirement and is kept.
RUN pip install -e . && python -c "import torch, nnplayground; print('torch', torch.__version__)"
COPY frontend ./frontend

RUN useradd --create-home --uid 10001 nnpg && mkdir -p /data && chown nnpg /data
USER nnpg

ENV NNPG_HOST=0.0.0.0 \
    NNPG_PORT=8000 \
    NNPG_DATA_DIR=/data \
    NNPG_FRONTEND_DIR=/app/frontend
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/api/health' % os.environ.get('NNPG_PORT', '8000'), timeout=4)"]

CMD ["nnplayground", "serve"]
