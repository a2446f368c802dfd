# WARD FLUX image: web (gunicorn), worker and beat run from it with different commands (see docker-compose.yml).
FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 WARDFLUX_VAR_DIR=/var/lib/wardflux
RUN apt-get update && apt-get install -y --no-install-recommends snmp iputils-ping \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
RUN mkdir -p /var/lib/wardflux \
    && DEBUG=1 python manage.py collectstatic --no-input -v 0
EXPOSE 8000
CMD ["gunicorn", "wardsite.wsgi", "-b", "0.0.0.0:8000", "--workers", "3", "--threads", "4"]
