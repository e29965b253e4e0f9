# syntax=docker/dockerfile:1
# findimage in a container: compiled in a build stage (dev dependencies, TypeScript, native
# modules), then run from a slim stage with production dependencies only, as the unprivileged
# `node` user. The model cache and the data folder are volumes, so models download once.
# Node 26, the current LTS line (CI tests the same line; package.json's engines allow 22.12 on).
ARG NODE_VERSION=26.12.0

FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /app
# better-sqlite3 compiles from source when no prebuilt binary fits this Node and platform.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
# CPU inference: onnxruntime-node ships its CPU library; its install script would only fetch
# the CUDA provider, which this image cannot use.
ENV ONNXRUNTIME_NODE_INSTALL=skip
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` compiles the sources, which are not copied yet.
RUN npm ci --no-audit --no-fund --ignore-scripts \
 && npm rebuild better-sqlite3
COPY tsconfig.json ./
COPY bin ./bin
COPY src ./src
COPY web ./web
COPY scripts/build-cli.mjs ./scripts/build-cli.mjs
COPY scripts/build-web.mjs ./scripts/build-web.mjs
COPY models ./models
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund

FROM node:${NODE_VERSION}-bookworm-slim AS runtime
# The web app listens on every interface of the container so the published port reaches it;
# off loopback it needs FINDIMAGE_WEB_TOKEN (findimage.env) and refuses to start without it.
ENV NODE_ENV=production \
    FINDIMAGE_DATA=/data \
    FINDIMAGE_CACHE=/cache \
    FINDIMAGE_WEB_HOST=0.0.0.0 \
    FINDIMAGE_WEB_PORT=8765
WORKDIR /app
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/bin ./bin
COPY --from=build /app/models ./models
RUN mkdir -p /data /cache && chown node:node /data /cache
USER node
VOLUME ["/data", "/cache"]
EXPOSE 8765
ENTRYPOINT ["node", "bin/findimage.js"]
CMD ["serve"]
