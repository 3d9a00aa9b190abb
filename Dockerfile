# Multi-stage build of the prolo-scheduler API. Build: docker build -t prolo-scheduler .
FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY migrations ./migrations
RUN cargo build --release --locked --bin prolo-scheduler

FROM debian:bookworm-slim
RUN useradd --system --uid 10001 --user-group prolo
COPY --from=build /src/target/release/prolo-scheduler /usr/local/bin/prolo-scheduler
USER prolo
ENV PROLO_BIND=0.0.0.0:8080 \
    PROLO_LOG_FORMAT=json
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/prolo-scheduler"]
CMD ["serve"]
