# nginx (Debian) terminating TLS in front of the gateway replicas; runs as
# www-data on unprivileged ports, certificate and key mounted at run time.
ARG BASE=debian:bookworm-slim
FROM ${BASE}
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nginx-light \
 && rm -rf /var/lib/apt/lists/* /etc/nginx/sites-enabled/* \
 && install -d -o www-data -g www-data /var/cache/nginx-run
COPY docker/nginx/nginx.conf /etc/nginx/nginx.conf
USER www-data
EXPOSE 8080 8443
HEALTHCHECK --interval=5s --timeout=3s --retries=3 \
  CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080 && printf 'GET /nginx-health HTTP/1.0\\r\\n\\r\\n' >&3 && head -1 <&3 | grep -q ' 200 '"]
ENTRYPOINT ["nginx", "-g", "daemon off;"]
