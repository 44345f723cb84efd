# lrlab: the Streamlit app in a container (CPU only).
#   docker build -t lrlab . && docker run --rm -p 8501:8501 lrlab   →  http://localhost:8501
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# Visitors never see a traceback, even from a widget callback (callbacks run before app.py's safety net).
ENV STREAMLIT_CLIENT_SHOW_ERROR_DETAILS=none
# Fewer glibc malloc arenas for the server's many session threads: less RSS creep (docs/load-report.md).
ENV MALLOC_ARENA_MAX=2

WORKDIR /app

# CPU-only torch in its own layer, first: the plain PyPI wheel would bring CUDA (several GB).
RUN pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu

# Runtime requirements (their torch pin is already satisfied by the layer above); timm and fastai without
# their declared dependencies (torchvision/spacy would replace torch with a CUDA build).
COPY requirements.txt requirements-nodeps.txt ./
RUN pip install -r requirements.txt \
    && pip install --no-deps -r requirements-nodeps.txt

# The app and the package.
COPY pyproject.toml README.md ./
COPY lrlab ./lrlab
COPY app.py ./
COPY pages ./pages
COPY .streamlit ./.streamlit
RUN pip install --no-deps . \
    && useradd --create-home --uid 1000 lrlab

USER lrlab

EXPOSE 8501

HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD python -c "import urllib.request, sys; sys.exit(urllib.request.urlopen('http://localhost:8501/_stcore/health', timeout=4).read() != b'ok')"

ENTRYPOINT ["streamlit", "run", "app.py", "--server.port=8501", "--server.address=0.0.0.0"]
