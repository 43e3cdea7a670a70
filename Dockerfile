# rewardgate service image. The model store is a mounted volume (/models) or an object store
# (REWARDGATE_STORE=s3://...), never baked in.
#   docker build -t rewardgate .                                            # CPU torch
#   docker build --build-arg TORCH_VARIANT=cu124 -t rewardgate:latest-cuda .  # CUDA torch, for GPU nodes
# Dependencies are pinned by deploy/constraints.txt (reproducible). Where the build cannot reach
# the package index, put every wheel in ./wheelhouse first and the build installs from it with
# --no-index (`make stack-test` does exactly that).
FROM python:3.11-slim AS build

ARG TORCH_VERSION=2.13.0
ARG TORCH_VARIANT=cpu

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src
COPY deploy/constraints.txt pyproject.toml README.md ./
COPY wheelhouse/ /wheelhouse/
# torch first, from the wheelhouse or the index of the asked variant; then everything else
RUN python -m venv /opt/venv \
    && python -c "import tomllib; d = tomllib.load(open('pyproject.toml', 'rb'))['project']; o = d['optional-dependencies']; print('\n'.join(d['dependencies'] + o['train'] + o['s3']))" > requirements.txt \
    && if ls /wheelhouse/*.whl > /dev/null 2>&1; then \
         /opt/venv/bin/pip install --no-index --find-links /wheelhouse -c constraints.txt "torch==${TORCH_VERSION}" -r requirements.txt; \
       else \
         /opt/venv/bin/pip install "torch==${TORCH_VERSION}" --index-url "https://download.pytorch.org/whl/${TORCH_VARIANT}" \
         && /opt/venv/bin/pip install -c constraints.txt -r requirements.txt; \
       fi

FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/venv/bin:$PATH \
    HF_HUB_OFFLINE=1 \
    REWARDGATE_STORE=/models \
    REWARDGATE_CACHE=/tmp/rewardgate-cache \
    HOST=0.0.0.0 \
    PORT=8000

COPY --from=build /opt/venv /opt/venv
WORKDIR /srv
COPY app ./app
COPY model_store ./model_store
COPY modeling ./modeling
COPY training ./training
RUN useradd --create-home --uid 10001 rewardgate \
    && mkdir -p /models \
    && chown rewardgate /models

USER 10001
VOLUME ["/models"]
EXPOSE 8000

HEALTHCHECK --interval=15s --timeout=3s --start-period=120s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('PORT', '8000') + '/readyz', timeout=2)"]

# One uvicorn worker per container: scale with replicas, not workers (one model copy each).
CMD ["python", "-m", "app"]
