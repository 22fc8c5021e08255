# AAP's container image: the SDK builds, a chiseled ASP.NET runtime (no shell, no package manager, ICU and tzdata
# included) runs it as a non-root user. Everything the service writes (the SQLite database, local files, logs,
# Development keys) goes to /data, a volume, so the root filesystem can be read-only.
#
#   docker build -t aap .
#   docker run -p 8080:8080 -v aap-data:/data --read-only --tmpfs /tmp \
#     -e Auth__SigningKey=... -e Storage__LinkSigningKey=... aap
ARG SDK_IMAGE=mcr.microsoft.com/dotnet/sdk:10.0
ARG RUNTIME_IMAGE=mcr.microsoft.com/dotnet/aspnet:10.0-noble-chiseled-extra

FROM ${SDK_IMAGE} AS build
WORKDIR /src
ENV DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

# Restore first, from the project files alone: this layer is reused until a project or a package version changes.
COPY global.json .editorconfig Directory.Build.props Directory.Packages.props ./
COPY src/Aap.Toolkit/Aap.Toolkit.csproj src/Aap.Toolkit/
COPY src/Aap.Api/Aap.Api.csproj src/Aap.Api/
# For this machine's architecture only: the native libraries of other platforms (SQLite's, about 65 MB) stay out.
RUN dotnet restore src/Aap.Api/Aap.Api.csproj --runtime "linux-$(uname -m | sed 's/x86_64/x64/;s/aarch64/arm64/')"

COPY src/ src/
RUN dotnet publish src/Aap.Api/Aap.Api.csproj --configuration Release --no-restore --output /app -p:UseAppHost=false \
      --runtime "linux-$(uname -m | sed 's/x86_64/x64/;s/aarch64/arm64/')" --self-contained false \
 && rm -f /app/appsettings.Development.json \
 && mkdir -p /data

FROM ${RUNTIME_IMAGE} AS runtime
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG CREATED=unknown
ARG SOURCE=""
LABEL org.opencontainers.image.title="AAP" \
      org.opencontainers.image.description="Admin and User Portal: rewards, auth, to-dos and files as one HTTP service." \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.licenses="proprietary" \
      org.opencontainers.image.source="${SOURCE}"

WORKDIR /app
COPY --from=build /app ./
# The chiseled image has no shell to mkdir with: the empty data folder comes from the build stage, owned by the
# image's non-root user (app, 1654).
COPY --from=build --chown=1654:1654 /data /data

# MALLOC_ARENA_MAX: glibc otherwise gives the native code's allocations (the runtime's own, SQLite, OpenSSL, ICU) up
# to eight arenas per core, each keeping the pages of its busiest moment; two took 10 to 30 MiB off the resident
# memory under the mixed load (docs/benchmarks.md). glibc reads it at the process's start only.
ENV AAP_DATA_DIR=/data \
    ASPNETCORE_HTTP_PORTS=8080 \
    ASPNETCORE_ENVIRONMENT=Production \
    MALLOC_ARENA_MAX=2
VOLUME ["/data"]
EXPOSE 8080
USER 1654

# The runtime image has no curl: the service's own CLI asks /health/ready (database reachable and migrated).
HEALTHCHECK --interval=15s --timeout=6s --start-period=60s --retries=3 \
  CMD ["dotnet", "/app/aap.dll", "health", "--ready"]
ENTRYPOINT ["dotnet", "/app/aap.dll"]
