i=0; while [ $i -lt 300 ]; do d=d$((i % 17)); mkdir -p $d; echo "file $i" > $d/f$i.txt; i=$((i+1)); done
chmod 0666 d1/f1.txt
