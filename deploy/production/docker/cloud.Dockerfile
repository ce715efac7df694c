# footfall cloud services: ingest, stitch, api, migrate (one image, the command picks the service).
# Build from the repository root:
#   docker build -f deploy/production/docker/cloud.Dockerfile -t footfall-cloud .
# No vision stack in this image: the cloud never imports it (import-linter contract).

# The dashboard's charting library, fetched from the npm registry by the same pinned,
# hash-checked script the checkout uses (the API never loads it from a CDN).
FROM python:3.11-slim-bookworm AS web-assets
WORKDIR /src
COPY deploy/local/vendor-web-assets.sh deploy/local/vendor-web-assets.sh
RUN apt-get update \
    && apt-get install -y --no-install-recommends npm \
    && rm -rf /var/lib/apt/lists/* \
    && bash deploy/local/vendor-web-assets.sh

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    FOOTFALL_SITES_DIR=/etc/footfall/sites
WORKDIR /opt/footfall
COPY pyproject.toml README.md LICENSE constraints.txt ./
COPY footfall ./footfall
COPY cloud ./cloud
COPY edge ./edge
COPY --from=web-assets /src/cloud/api/dashboard/static/vendor ./cloud/api/dashboard/static/vendor
RUN pip install -c constraints.txt '.[cloud]' \
    && useradd --system --uid 10001 --home-dir /nonexistent --shell /usr/sbin/nologin footfall
USER 10001:10001
EXPOSE 8080
ENTRYPOINT ["footfall"]
CMD ["cloud", "api", "--host", "0.0.0.0", "--port", "8080"]
