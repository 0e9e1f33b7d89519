# Rows first, the last input row's row maxima kept for the next output row (order H): two rows
# de-interleaved (6 permutes), the kept row maxima loaded and the new ones stored
vmovups (%rbp,%r14,8), %zmm18
vmovups 64(%rbp,%r14,8), %zmm12
vmovups (%r15,%r14,8), %zmm13
vmovups 64(%r15,%r14,8), %zmm10
vmovaps (%rdx,%r14,4), %zmm9
addq $16, %r8
vmovaps %zmm18, %zmm16
vpermt2ps %zmm12, %zmm1, %zmm16
vpermt2ps %zmm12, %zmm2, %zmm18
vmovaps %zmm13, %zmm14
vpermt2ps %zmm10, %zmm1, %zmm14
vpermt2ps %zmm10, %zmm2, %zmm13
vmovaps %zmm16, %zmm17
vpermt2ps %zmm7, %zmm3, %zmm17
vmovaps %zmm14, %zmm15
vpermt2ps %zmm11, %zmm3, %zmm15
vmovaps %zmm14, %zmm11
vmovaps %zmm16, %zmm7
vcmpnleps %zmm17, %zmm18, %k1
vcmpordps %zmm4, %zmm17, %k1 {%k1}
vmovaps %zmm18, %zmm17 {%k1}
vcmpnleps %zmm17, %zmm16, %k1
vcmpordps %zmm4, %zmm17, %k1 {%k1}
vmovaps %zmm16, %zmm17 {%k1}
vcmpnleps %zmm9, %zmm17, %k1
vcmpordps %zmm4, %zmm9, %k1 {%k1}
vmovaps %zmm17, %zmm9 {%k1}
vcmpnleps %zmm15, %zmm13, %k1
vcmpordps %zmm4, %zmm15, %k1 {%k1}
vmovaps %zmm13, %zmm15 {%k1}
vcmpnleps %zmm15, %zmm14, %k1
vcmpordps %zmm4, %zmm15, %k1 {%k1}
vmovaps %zmm14, %zmm15 {%k1}
vmovaps %zmm15, (%rdx,%r14,4)
vcmpnleps %zmm9, %zmm15, %k1
vcmpordps %zmm4, %zmm9, %k1 {%k1}
vmovaps %zmm15, %zmm9 {%k1}
vmovntps %zmm9, (%rcx,%r14,4)
