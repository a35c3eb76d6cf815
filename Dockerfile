# syntax=docker/dockerfile:1
# Build: compile TypeScript with the dev dependencies, then keep only what runs.
FROM node:22-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY models ./models
RUN npm ci --no-audit --no-fund && npm prune --omit=dev

FROM node:22-slim
ENV NODE_ENV=production PORT=8080 HOST=0.0.0.0 MODELS_DIR=/var/lib/lora-placer
WORKDIR /app
COPY --from=build --chown=root:root /app/package.json ./
COPY --from=build --chown=root:root /app/node_modules ./node_modules
COPY --from=build --chown=root:root /app/dist ./dist
COPY --from=build --chown=root:root /app/models ./models
# refreshed models are written here (mount a volume shared by the replicas)
RUN mkdir -p /var/lib/lora-placer && chown node:node /var/lib/lora-placer
USER node
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "dist/main.js"]
