# WARD FLUX image: web (gunicorn), worker and beat run from it with different commands (see docker-compose.yml).
FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 WARDFLUX_VAR_DIR=/var/lib/wardflux
RUN apt-get update && apt-get install -y --no-install-recommends snmp iputils-ping \
    && rm -rf /var/lib/apt/lists/*
# Every process runs as this unprivileged user; fixed ids, so a volume or a host directory can be given to it.
RUN groupadd --system --gid 10001 wardflux \
    && useradd --system --uid 10001 --gid wardflux --home-dir /var/lib/wardflux --no-create-home \
       --shell /usr/sbin/nologin wardflux
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
# The code and the static files stay root's (read-only to the app); only WARDFLUX_VAR_DIR is the app's to write.
RUN mkdir -p /var/lib/wardflux \
    && DEBUG=1 python manage.py collectstatic --no-input -v 0 \
    && chown wardflux:wardflux /var/lib/wardflux
USER 10001:10001
EXPOSE 8000
CMD ["gunicorn", "wardsite.wsgi", "-b", "0.0.0.0:8000", "--workers", "3", "--threads", "4"]
