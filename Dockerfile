# syntax=docker/dockerfile:1
# The OWP coordinator as a container image. Build: docker build -t owp-coordinator .
# Stage 1 bundles the CLI with esbuild; stage 2 runs that bundle alone (it carries every
# dependency), as the unprivileged `node` user, with its data in the /data volume.
# Checked without a Docker engine by test/deploy/container.test.ts (see README, "Deploy").

FROM node:24-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
# Scripts are skipped here: `prepare` would build before the sources are copied, and esbuild's
# JS API finds its platform binary without its postinstall.
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY . .
RUN node esbuild.mjs --production

FROM node:24-slim AS runtime
ENV NODE_ENV=production \
  OWP_LOG_LEVEL=info
WORKDIR /app
COPY --from=build /src/package.json ./package.json
COPY --from=build /src/bin ./bin
COPY --from=build /src/dist ./dist
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 8787
# Liveness only: a degraded store shows on /readyz (for the load balancer), not as a restart.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8787/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# SIGTERM (docker stop) finishes pending writes and takes a snapshot before exiting.
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "/app/bin/owp.mjs"]
CMD ["coordinator", "--host", "0.0.0.0", "--port", "8787", "--data-dir", "/data"]
