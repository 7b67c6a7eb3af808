# syntax=docker/dockerfile:1
# One SFU node: the Node controller and its C media workers, on Debian 12
# (bookworm) with Node 20 (the official node:20-bookworm images are Debian 12).
#
#   docker build -t sfu .
#   docker run --rm --network host \
#     -e JWT_SECRET=... -e RTC_ANNOUNCED_IP=<the address clients reach> \
#     [-e TURN_URLS=... -e TURN_SECRET=... -e WEBHOOK_URL=... -e WEBHOOK_SECRET=...] sfu
#
# With host networking the node listens on HOST:PORT (0.0.0.0:3000) and its
# workers on RTC_MIN_PORT-RTC_MAX_PORT (UDP and TCP) of the host itself; no
# port mapping (WebRTC candidates must carry the real ports).
#
# Every RUN is a step CI runs (node-controller/test/packaging.test.ts checks
# it): the build stage is scripts/setup.sh (Debian packages, libsrtp2 built
# from Debian's source package with OpenSSL, npm ci), `make worker`, the
# controller's build; the runtime stage is `scripts/setup.sh --runtime`
# (the worker's shared libraries, production npm packages).

FROM node:20-bookworm AS build
WORKDIR /src
COPY . .
RUN bash scripts/setup.sh
RUN make -j2 worker
RUN cd node-controller && npm run build && node demo/build.mjs

FROM node:20-bookworm-slim AS runtime
WORKDIR /opt/sfu
COPY scripts/setup.sh scripts/setup.sh
COPY node-controller/package.json node-controller/package-lock.json node-controller/
RUN bash scripts/setup.sh --runtime
COPY --from=build /src/build/sfu-worker build/sfu-worker
COPY --from=build /src/node-controller/dist node-controller/dist
COPY --from=build /src/node-controller/demo/dist node-controller/demo/dist
COPY --from=build /src/node-controller/ops node-controller/ops
WORKDIR /opt/sfu/node-controller
ENV NODE_ENV=production HOST=0.0.0.0 PORT=3000 RTC_LISTEN_IP=0.0.0.0 RTC_MIN_PORT=40000 RTC_MAX_PORT=41000
USER node
EXPOSE 3000/tcp 40000-41000/udp 40000-41000/tcp
HEALTHCHECK --interval=10s --timeout=3s CMD ["node", "-e", "fetch('http://127.0.0.1:'+process.env.PORT+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
STOPSIGNAL SIGTERM
CMD ["node", "dist/src/server.js"]
