ARG BASE
FROM $BASE
LABEL from-file=yes overridden=by-file
COPY app.txt /app.txt
