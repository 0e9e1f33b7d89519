# The vmaxps trip and a flag: one unordered compare of each row's even and odd lanes, ORed
vmovups (%rsi,%r14,8), %zmm10
vmovups 64(%rsi,%r14,8), %zmm8
vmovaps %zmm10, %zmm6
vpermt2ps %zmm8, %zmm1, %zmm6
vmovaps %zmm6, %zmm9
vpermt2ps %zmm8, %zmm2, %zmm10
vpermt2ps %zmm13, %zmm3, %zmm9
vmaxps %zmm9, %zmm10, %zmm9
vmaxps %zmm9, %zmm6, %zmm9
vcmpunordps %zmm10, %zmm6, %k2
vmovups (%rbp,%r14,8), %zmm18
vmovups 64(%rbp,%r14,8), %zmm12
vmovups (%r15,%r14,8), %zmm13
vmovups 64(%r15,%r14,8), %zmm10
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
vmaxps %zmm17, %zmm18, %zmm17
vmaxps %zmm17, %zmm16, %zmm17
vmaxps %zmm9, %zmm17, %zmm9
vmaxps %zmm15, %zmm13, %zmm15
vmaxps %zmm15, %zmm14, %zmm15
vcmpunordps %zmm18, %zmm16, %k3
vcmpunordps %zmm13, %zmm14, %k4
korw %k2, %k3, %k2
korw %k2, %k4, %k2
korw %k2, %k6, %k6
vmovaps %zmm6, %zmm13
vmaxps %zmm9, %zmm15, %zmm9
vmovntps %zmm9, (%rcx,%r14,4)
