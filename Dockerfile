# The web pages' browser libraries, from the committed npm lock.
FROM node:20-slim AS web
WORKDIR /web
COPY dashboards/package.json dashboards/package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund

FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY hub hub
COPY devices devices
COPY bridges bridges
COPY dashboards dashboards
COPY --from=web /web/node_modules dashboards/node_modules
COPY benchmarks benchmarks
RUN pip install --no-cache-dir ".[postgres]"
CMD ["sh", "-c", "fhub db upgrade && fhub serve"]
