# rewardgate service image. The model store is a mounted volume (/models), never baked in.
#   docker build -t rewardgate .                                  # CPU torch
#   docker build --build-arg TORCH_VARIANT=cu124 -t rewardgate .  # CUDA torch
FROM python:3.11-slim

ARG TORCH_VERSION=2.13.0
ARG TORCH_VARIANT=cpu

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    REWARDGATE_STORE=/models \
    HOST=0.0.0.0 \
    PORT=8000

WORKDIR /srv

# Dependencies first, in their own layers, so code changes rebuild in seconds.
RUN pip install "torch==${TORCH_VERSION}" --index-url "https://download.pytorch.org/whl/${TORCH_VARIANT}"
COPY pyproject.toml README.md ./
RUN python -c "import tomllib; d = tomllib.load(open('pyproject.toml', 'rb'))['project']; print('\n'.join(d['dependencies'] + d['optional-dependencies']['train']))" > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt

COPY app ./app
COPY model_store ./model_store
COPY training ./training
RUN pip install --no-deps . \
    && useradd --create-home --uid 10001 rewardgate \
    && mkdir -p /models \
    && chown rewardgate /models

USER 10001
VOLUME ["/models"]
EXPOSE 8000

HEALTHCHECK --interval=15s --timeout=3s --start-period=120s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('PORT', '8000') + '/readyz', timeout=2)"]

# One uvicorn worker per container: scale with replicas, not workers (one model copy each).
CMD ["python", "-m", "app"]
