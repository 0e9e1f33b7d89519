# Columns first (order G): the trip above and its flag (a -0 among the combined columns, a NaN in y)
vmovups (%rsi,%r14,8), %zmm10
vmovups 64(%rsi,%r14,8), %zmm8
vmovups (%rbp,%r14,8), %zmm18
vmovups 64(%rbp,%r14,8), %zmm12
vmovups (%r15,%r14,8), %zmm13
vmovups 64(%r15,%r14,8), %zmm14
addq $16, %r8
vcmpnleps %zmm10, %zmm18, %k1
vcmpordps %zmm4, %zmm10, %k1 {%k1}
vmovaps %zmm18, %zmm10 {%k1}
vcmpnleps %zmm10, %zmm13, %k1
vcmpordps %zmm4, %zmm10, %k1 {%k1}
vmovaps %zmm13, %zmm10 {%k1}
vcmpnleps %zmm8, %zmm12, %k2
vcmpordps %zmm4, %zmm8, %k2 {%k2}
vmovaps %zmm12, %zmm8 {%k2}
vcmpnleps %zmm8, %zmm14, %k2
vcmpordps %zmm4, %zmm8, %k2 {%k2}
vmovaps %zmm14, %zmm8 {%k2}
vpcmpeqd %zmm20, %zmm10, %k3
vpcmpeqd %zmm20, %zmm8, %k4
korw %k3, %k4, %k3
vmovaps %zmm10, %zmm16
vpermt2ps %zmm8, %zmm1, %zmm16
vpermt2ps %zmm8, %zmm2, %zmm10
vmovaps %zmm10, %zmm17
vpermt2ps %zmm7, %zmm3, %zmm17
vmovaps %zmm10, %zmm7
vcmpnleps %zmm17, %zmm16, %k1
vcmpordps %zmm4, %zmm17, %k1 {%k1}
vmovaps %zmm16, %zmm17 {%k1}
vcmpnleps %zmm17, %zmm10, %k1
vcmpordps %zmm4, %zmm17, %k1 {%k1}
vmovaps %zmm10, %zmm17 {%k1}
vfpclassps $0x81, %zmm17, %k5
korw %k3, %k5, %k3
korw %k3, %k6, %k6
vmovups %zmm17, (%rcx,%r14,4)
