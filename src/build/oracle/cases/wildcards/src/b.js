src/b.js
