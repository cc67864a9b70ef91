# syntax=docker/dockerfile:1
#
# sailthru-destination in one container: ingest, console and delivery in one process on the
# embedded SQLite database, kept in the /data volume (docs/operating.md, "Docker").
#
#   docker build -t sailthru-destination .
#   docker run -d --name sailthru-destination -p 8080:8080 -v sailthru-data:/data \
#     --env-file sailthru-destination.env --stop-timeout 120 sailthru-destination
#
# sailthru-destination.env holds the Sailthru and access variables (deploy/ has an example);
# HOST, PORT and DATABASE_URL are set below.
#
# The commands are the README's: `npm ci`, then `serve` of the `sailthru-destination` bin
# (package.json "bin": bin/sailthru-destination.js, what `npx sailthru-destination serve` runs),
# started with node itself. Through npx the server would not stop gracefully: npm passes SIGTERM
# to the `sh -c` it starts, which dies without passing it on; and npx, run by a user that does
# not own the code, fails to link it (EPERM on chmod).
#
# Checked by test/deploy/dockerfile.test.ts: the commands are the README's (the CMD through
# package.json "bin"), and the CMD, run with this image's environment, serves the HEALTHCHECK and
# exits 0 on the STOPSIGNAL. No Docker engine could build the image here: its RUN and CMD lines
# were run by hand in a fresh copy of the repository (npm ci, which compiled better-sqlite3 with
# the tools installed below; serve as a non-root user with root-owned code and no home directory;
# SIGTERM gave "shutting down: finishing in-flight deliveries" and exit 0).

FROM node:20-bookworm-slim AS build
# better-sqlite3 downloads a prebuilt binary when one fits and compiles from source otherwise.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
# tsx, which runs the TypeScript sources, is a runtime dependency (no build step).
RUN npm ci
COPY bin ./bin
COPY src ./src

FROM node:20-bookworm-slim
WORKDIR /app
# Owned by root, read-only to the server; only /data (and /tmp, tsx's cache) are written.
COPY --from=build /app ./
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
CMD ["node", "bin/sailthru-destination.js", "serve"]
