# digsync serve: the Config API and web UI, in a container.
#
#   docker build -t digsync .
#   docker run -d --name digsync -p 127.0.0.1:8000:8000 \
#     -v "$PWD/config:/config" \
#     -e DIGSYNC_API_TOKEN -e TD_API_KEY \
#     digsync
#
# /config holds config.yaml; digsync writes it (saves from the UI), the generated project
# and its history (.digsync/) there, so it must be writable by uid 10001
# (chown -R 10001 config, or run with --user "$(id -u):$(id -g)").
# The server listens on 0.0.0.0 inside the container, and digsync serve refuses a
# non-loopback address unless DIGSYNC_API_TOKEN is set: pass it at run time, with
# TD_API_KEY for the td target. No secret is part of the image.

# Every package comes from a hashed lock (make lock writes them from pyproject.toml):
# the build stage's setuptools and wheel from requirements-build.lock, digsync's
# dependencies and the serve extra from requirements.lock; the digsync wheel goes in
# with --no-deps, and pip check proves the lock meets its ranges.
FROM python:3.11.14-slim-bookworm AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY requirements-build.lock ./
RUN pip install --require-hashes -r requirements-build.lock
COPY pyproject.toml README.md LICENSE ./
COPY digsync ./digsync
RUN pip wheel --no-deps --no-build-isolation --wheel-dir /wheels .

FROM python:3.11.14-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
RUN useradd --system --uid 10001 --user-group --home-dir /home/digsync --create-home \
        --shell /usr/sbin/nologin digsync \
    && install -d -o 10001 -g 10001 /config
COPY requirements.lock /tmp/requirements.lock
RUN pip install --require-hashes -r /tmp/requirements.lock && rm /tmp/requirements.lock
COPY --from=build /wheels /wheels
RUN pip install --no-deps /wheels/digsync-*.whl && rm -rf /wheels && pip check

WORKDIR /config
VOLUME ["/config"]
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status == 200 else 1)"]
CMD ["digsync", "serve", "--config", "/config/config.yaml", "--host", "0.0.0.0", "--port", "8000"]
