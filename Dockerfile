# forkguard service image: `docker build -t forkguard .` then
#   docker run -e REDIS_URL=redis://redis:6379 -p 8080:8080 -p 40000-40999:40000-40999/udp forkguard
# Everything it runs is installed at build time; nothing is downloaded at run time.

FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
# Runtime dependencies only (tsx runs the TypeScript sources; onnxruntime-node ships its CPU binary).
RUN npm ci --omit=dev --no-fund --no-audit

FROM node:20-bookworm-slim
RUN apt-get update \
  && apt-get install -y --no-install-recommends tini \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production \
    FORKGUARD_HTTP_PORT=8080 \
    FORKGUARD_RTP_PORTS=40000-40999 \
    FORKGUARD_STREP_PORT=39000 \
    FORKGUARD_HOST=0.0.0.0
COPY --from=deps /app/node_modules ./node_modules
COPY package.json .npmrc ./
COPY bin ./bin
COPY src ./src
COPY models ./models
USER node
EXPOSE 8080/tcp 39000/udp 40000-40999/udp
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+process.env.FORKGUARD_HTTP_PORT+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
ENTRYPOINT ["tini", "--", "node", "bin/forkguard.js"]
CMD ["start"]
