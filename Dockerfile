# OneSeal production image. Build: docker build -t oneseal .
# Run with a vendor PKCS#11 module mounted (ONESEAL_PKCS11_MODULE), or SoftHSM2 (installed here) for demos
# with its token directory on a volume. NODE_ENV=production refuses the dev keys and the dev PIN.

FROM node:20-bookworm-slim AS build
# pkcs11js and sqlite3 are native addons: compilers are needed to build them, not to run them.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
RUN npm ci --no-audit --no-fund
COPY src ./src
COPY bench ./bench
RUN npx tsc -p tsconfig.build.json && npm prune --omit=dev

FROM node:20-bookworm-slim
# jemalloc: glibc's malloc keeps the arenas of ended worker threads (a replaced worker that had grown past
# 256 MB left 310 MB resident, 50 MB under jemalloc); see README "Memory after a heavy request".
RUN apt-get update \
 && apt-get install -y --no-install-recommends softhsm2 opensc fonts-arphic-gbsn00lp ca-certificates libjemalloc2 \
 && rm -rf /var/lib/apt/lists/* \
 && ln -s "$(ls /usr/lib/*-linux-gnu/libjemalloc.so.2)" /usr/local/lib/libjemalloc.so.2
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY bin ./bin
COPY hsm ./hsm
# The offline verifier and the licence page script are served as they are (src/api/routes/offline.ts).
COPY --from=build /app/src/offline/web ./src/offline/web
ENV NODE_ENV=production \
    LD_PRELOAD=/usr/local/lib/libjemalloc.so.2 \
    ONESEAL_HOST=0.0.0.0 \
    ONESEAL_PORT=8080 \
    ONESEAL_DATA_DIR=/var/lib/oneseal
RUN useradd --system --uid 10001 --home-dir /var/lib/oneseal oneseal \
 && mkdir -p /var/lib/oneseal \
 && chown oneseal /var/lib/oneseal
USER oneseal
VOLUME ["/var/lib/oneseal"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8080/healthz').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["bin/oneseal", "serve"]
