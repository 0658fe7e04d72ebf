# syntax=docker/dockerfile:1
# The controller image: `mlopsctl` in a virtualenv on slim Python, running as a non-root user.
# It carries mlflow-skinny (the client), not the full mlflow server, and no compilers.
#   docker build -t <your-registry>/mlops-gitops-controller:0.1.0 .
# Its entrypoint is mlopsctl, so the same image checks manifests offline:
#   docker run --rm -v "$PWD/deploy:/manifests:ro" <your-registry>/mlops-gitops-controller:0.1.0 validate /manifests
ARG PYTHON_VERSION=3.11

FROM python:${PYTHON_VERSION}-slim AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
COPY pyproject.toml README.md ./
COPY controller ./controller
# Install the package and its runtime dependencies only (no test extras), then drop the installers.
RUN pip install . \
 && pip uninstall --yes pip setuptools \
 && python -m compileall -q /opt/venv

FROM python:${PYTHON_VERSION}-slim
# The root filesystem is read-only in the chart: no bytecode writes; HOME is the writable /tmp.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/tmp
RUN groupadd --gid 65532 controller \
 && useradd --uid 65532 --gid 65532 --no-create-home --home-dir /tmp --shell /usr/sbin/nologin controller
COPY --from=build /opt/venv /opt/venv
USER 65532:65532
EXPOSE 8080 8081
ENTRYPOINT ["mlopsctl"]
CMD ["run", "--log-format=json"]
