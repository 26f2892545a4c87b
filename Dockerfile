FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY hub hub
COPY devices devices
COPY bridges bridges
COPY dashboards dashboards
COPY benchmarks benchmarks
RUN pip install --no-cache-dir ".[postgres]"
CMD ["sh", "-c", "fhub db upgrade && fhub serve"]
