#!/bin/sh
echo "$GREETING from a kiln-built image"
cat /app/built.txt
