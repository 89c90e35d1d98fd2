# Sourced by the build benchmarks.
# gen DIR N: a context of N small files (1-4 KB) spread over src/{a,b,c}/dNN/, and the Dockerfile.
gen() {
  local dir=$1 n=$2
  rm -rf "$dir"; mkdir -p "$dir"
  node -e '
    const fs = require("fs"), path = require("path"), crypto = require("crypto");
    const [dir, n] = [process.argv[1], Number(process.argv[2])];
    for (let i = 0; i < n; i++) {
      const d = path.join(dir, "src", "abc"[i % 3], "d" + String(Math.floor(i / 3) % 100).padStart(2, "0"));
      if (i < 300) fs.mkdirSync(d, { recursive: true });
      fs.writeFileSync(path.join(d, "f" + i + ".txt"), crypto.randomBytes(512 + (i % 4) * 512).toString("base64"));
    }' "$dir" "$n"
  cat >"$dir/Dockerfile" <<'EOF'
ARG BASE
FROM $BASE
RUN mkdir -p /app && echo "$(date) step 1" > /app/built-at
COPY src/a/ /app/a/
RUN find /app -type f | wc -l > /app/count-a
COPY src/b/ /app/b/
RUN du -s /app > /app/du-b
COPY src/c/ /app/c/
EOF
}

