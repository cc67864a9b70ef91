# sailthru-destination in one container: ingest, console and delivery in one process on the
# embedded SQLite database, kept in the /data volume (docs/operating.md, "Docker").
#
#   docker build -t sailthru-destination .
#   docker run -d --name sailthru-destination -p 8080:8080 -v sailthru-data:/data \
#     --env-file sailthru-destination.env --stop-timeout 120 sailthru-destination
#
# sailthru-destination.env holds the Sailthru and access variables (deploy/ has an example);
# HOST, PORT and DATABASE_URL are set below. compose.yaml runs serve + workers on PostgreSQL.
#
# BASE is any Debian-based image: node:20-bookworm-slim (the default, from Docker Hub) or, where
# no registry can be reached, a Debian 13 image built from Debian's packages with
# deploy/debian-base-image.sh (`--build-arg BASE=local/debian-trixie`); on a base without Node,
# Debian's nodejs is installed (trixie's is 20, as package.json "engines" asks).
#
# Built and run by test/deploy/container.test.ts (it serves /healthz, takes a batch and delivers
# it to an emulator container); the instructions are checked by test/deploy/dockerfile.test.ts.
ARG BASE=node:20-bookworm-slim

FROM ${BASE} AS build
# better-sqlite3 downloads a prebuilt binary when one fits and compiles from source otherwise.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ ca-certificates \
      $(command -v node >/dev/null || echo nodejs npm) \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# build-ca.pem, when the context has one, is a certificate authority for npm's HTTPS (a proxy's);
# it stays in this stage. Dependencies first, without the build (prepare needs src/), so that a
# change of the sources reuses this layer; better-sqlite3 then runs its own install script.
COPY package.json package-lock.json build-ca.pe[m] ./
RUN if [ -f build-ca.pem ]; then export NODE_EXTRA_CA_CERTS=/app/build-ca.pem; fi \
 && npm ci --ignore-scripts --no-audit --no-fund \
 && npm rebuild better-sqlite3
COPY tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY src ./src
RUN npm run build
# The image runs dist/ with the runtime dependencies only (no TypeScript, tsx, test tools), and
# of better-sqlite3's build only the compiled module (its C sources and objects are ~25 MB).
RUN npm prune --omit=dev --no-audit --no-fund \
 && cd node_modules/better-sqlite3 \
 && rm -rf deps src build/deps build/Release/obj build/Release/obj.target build/Release/.deps build/Release/sqlite3.a build/Release/test_extension.node

FROM ${BASE}
RUN if ! command -v node >/dev/null; then \
      apt-get update && apt-get install -y --no-install-recommends nodejs && rm -rf /var/lib/apt/lists/*; \
    fi \
 && if ! id -u node >/dev/null 2>&1; then useradd --uid 1000 --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin node; fi
WORKDIR /app
# Owned by root, read-only to the server; only /data is written.
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY bin ./bin
RUN mkdir -p /data && chown node:node /data
ENV HOST=0.0.0.0 \
    PORT=8080 \
    DATABASE_URL=sqlite:/data/sailthru-destination.db
VOLUME ["/data"]
EXPOSE 8080
USER node
# SIGTERM: answer 503 to new requests, finish the delivery in flight on each lane, exit 0.
# Give it time (docker stop -t 120, compose stop_grace_period: 2m): Docker's default is 10 s.
STOPSIGNAL SIGTERM
# Liveness on /healthz over loopback (HOST must stay 0.0.0.0 or include 127.0.0.1).
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8080) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# node itself, not npx: through npx, npm passes SIGTERM to the `sh -c` it starts, which dies
# without passing it on, so the server would not stop gracefully.
CMD ["node", "bin/sailthru-destination.js", "serve"]
