# The web pages' browser libraries, from the committed npm lock.
FROM node:20-slim AS web
WORKDIR /web
COPY dashboards/package.json dashboards/package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund

FROM python:3.11-slim
# Evidence PDFs: pango for WeasyPrint, and Debian's CJK fonts.
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 fonts-noto-cjk fonts-wqy-zenhei \
    && rm -rf /var/lib/apt/lists/*
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
EXPOSE 8000
HEALTHCHECK --interval=10s --start-period=20s --retries=6 CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=3).status != 200)"]
