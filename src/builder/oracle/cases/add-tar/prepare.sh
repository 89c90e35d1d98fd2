mkdir -p t/tree/sub && echo one > t/tree/one && echo two > t/tree/sub/two && chmod 0750 t/tree/sub && chmod 0604 t/tree/one && ln -s one t/tree/link
tar --numeric-owner --owner=1234 --group=4321 -C t -cf archive.tar tree
tar --numeric-owner --owner=0 --group=0 -C t -czf archive.tar.gz tree
rm -rf t && echo plain > plain.txt
